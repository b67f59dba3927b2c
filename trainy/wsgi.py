import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trainy.settings")

application = get_wsgi_application()

# Everything loaded so far (Django, the apps, every view the URLconf imports) lives as long as
# the process: moved out of the garbage collector's sight, its full collections scan what
# requests leave behind, not some 200,000 objects of code and settings. Measured in-process on
# "My journeys" over the API: the pause of a full collection fell from ~100 ms to under 10 ms.
get_resolver().url_patterns  # noqa: B018 -- loads the URLconf and the views now
gc.freeze()
