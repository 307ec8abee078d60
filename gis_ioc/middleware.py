"""Request-wide middleware of the platform."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from gis_ioc import accounts

SUPPORTED = {code for code, _name in settings.LANGUAGES}
# `?lang=en` works on any address: channels that refuse unknown parameters (OGC API, REST) let it through.
LANGUAGE_PARAM = "lang"


def chosen_language(request: HttpRequest) -> tuple[str, bool]:
    """The language of this request and whether it was chosen by `?lang=` (to be remembered).

    Vietnamese unless the user switched: `?lang=en` (a shareable link), else the language cookie that
    the VI/EN switch sets (/i18n/setlang/). The browser's Accept-Language is deliberately not used: a
    district office's browsers are often in English, and the platform must open in Vietnamese for them
    (Django's LocaleMiddleware would follow the browser)."""
    asked = request.GET.get(LANGUAGE_PARAM, "").strip().lower()
    if asked in SUPPORTED:
        return asked, True
    remembered = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if remembered in SUPPORTED:
        return remembered, False
    return settings.LANGUAGE_CODE, False


class LanguageMiddleware:
    """Activates the request's language (see `chosen_language`) and remembers a `?lang=` choice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language, from_query = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if from_query:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


async def _same_user(user: Any) -> Any:
    return user


class SignInMiddleware:
    """The one sign-in of every channel (after AuthenticationMiddleware, which set the session's user).

    A request with an `Authorization: Token …` or `Basic …` header is signed in as the token's owner, or
    refused with a 401 when the credentials are wrong — never served as anonymous. Without the header
    nothing is read (the session user stays lazy): anonymous and session requests cost nothing here.

    A token request carries no cookie, so it is exempt from CSRF; Basic is not, because a browser that
    was once given Basic credentials sends them by itself on cross-site requests too (reads still work:
    CSRF only guards unsafe methods)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header:
            try:
                signed = accounts.sign_in(header)
            except accounts.SignInFailed as exc:
                return accounts.unauthorized(exc.message)
            if signed is not None:
                request.user = signed.user
                request.auser = partial(_same_user, signed.user)  # async code agrees
                request.api_token = signed.token  # type: ignore[attr-defined]
                request.auth_scheme = signed.scheme  # type: ignore[attr-defined]
                if signed.scheme == "token":
                    request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]  # read by CsrfViewMiddleware
        return self.get_response(request)
