"""DRF's side of the one sign-in (gis_ioc.accounts, gis_ioc.middleware.SignInMiddleware)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from gis_ioc import accounts


class SignInAuthentication(SessionAuthentication):
    """What SignInMiddleware decided, as DRF wants it: the token's user (and the token as `request.auth`)
    for a request that carried valid credentials — wrong ones never reach a view, the middleware answered
    401 — else the session's user with DRF's CSRF check, as SessionAuthentication does."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        django_request = request._request
        token = getattr(django_request, "api_token", None)
        if token is None:
            return super().authenticate(request)
        if django_request.auth_scheme == "basic":
            self.enforce_csrf(request)  # a browser may send cached Basic credentials by itself
        return django_request.user, token

    def authenticate_header(self, request: Request) -> str:
        """401 rather than 403 for an anonymous write; the Token challenge only, so that a browser page
        whose session ended does not pop up the browser's own Basic login box."""
        return accounts.TOKEN_CHALLENGE


class SignInScheme(OpenApiAuthenticationExtension):
    """The OpenAPI document lists the three ways in, each enough alone."""

    target_class = SignInAuthentication
    name = ["tokenAuth", "basicAuth", "cookieAuth"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        from django.conf import settings

        return [
            build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token"),
            {"type": "http", "scheme": "basic", "description": "user name + API token"},
            {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME},
        ]
