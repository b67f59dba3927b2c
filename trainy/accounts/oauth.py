"""Where Trainy's OAuth2 apps meet django-oauth-toolkit beyond its settings: its consent view,
under the site's Content-Security-Policy, with the one answer it lacks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from oauth2_provider import views as oauth
from oauth2_provider.models import Application

from trainy.security import csp_source


class AuthorizationView(oauth.AuthorizationView):
    """The toolkit's consent page (templates/oauth2_provider/authorize.html).

    Its POST carries the request back in hidden fields, and the toolkit looks the app up by the
    posted client_id with ``objects.get`` before it validates anything else: a client_id that
    was tampered with, or an app deleted while its consent page was open, would be a 500. It is
    a 400 here, with the page's error, as an unknown app's GET is.

    The page's form posts to Trainy, which answers with a redirect to the app; browsers hold
    that redirect to the policy's ``form-action`` (trainy/security.py), so the consent page
    allows the origin of the one redirect URI of its request, which the toolkit has checked
    against the app's registered ones by then."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        redirect_uri = getattr(self, "oauth2_data", {}).get("redirect_uri")
        if response.status_code == 200 and redirect_uri:
            response._csp_update = {"form-action": [csp_source(redirect_uri)]}
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        if not Application.objects.filter(client_id=form.cleaned_data["client_id"]).exists():
            error = {"error": "invalid_client", "description": "No app has this client ID."}
            return self.render_to_response(self.get_context_data(error=error), status=400)
        return super().form_valid(form)
