"""The REST API's foundation (/api/v1/): the error format, scope permissions, throttling,
cursor pages and the OpenAPI helpers every app's ``apis.py`` builds on."""
