"""Where a page finds the live stream, and the headers that let it connect (the dashboard calls these)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

PATH = "/live/events"


def stream_url(request: HttpRequest) -> str:
    """The stream's address as the browser must call it: same origin when a proxy routes /live/ to uvicorn
    (IOC_LIVE_PORT=0), else this host on IOC_LIVE_PORT (`make demo`, compose)."""
    port = settings.IOC_LIVE_PORT
    if not port:
        return PATH
    host = _hostname(request.get_host())
    return f"{request.scheme}://{host}:{port}{PATH}"


def page_config(request: HttpRequest) -> dict[str, Any] | None:
    """What the dashboard's live module needs, or None for visitors (the stream is for signed-in people)."""
    if not request.user.is_authenticated:
        return None
    return {
        "url": stream_url(request),
        "strings": {
            "on": _("Trực tiếp"),
            "connecting": _("Đang kết nối cập nhật trực tiếp…"),
            "polling": _("Không nhận được cập nhật trực tiếp: tự làm mới mỗi %(n)s giây"),
            "feed": _("Vừa thay đổi"),
        },
    }


def allow_connect(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let the page's Content-Security-Policy connect to the stream when it is on another port."""
    url = stream_url(request)
    if url != PATH:
        parts = urlsplit(url)
        response._csp_update = {"connect-src": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response


def _hostname(host: str) -> str:
    """The host part of a Host header (IPv6 in brackets kept), without its port."""
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def cors_origin(request: HttpRequest) -> str | None:
    """The Origin to allow with credentials: a page of this same host on another port (the pages' server),
    or an origin listed in CSRF_TRUSTED_ORIGINS. Anything else gets no CORS header (the browser refuses)."""
    origin = request.headers.get("Origin")
    if not origin:
        return None
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return origin
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and parts.netloc and _hostname(parts.netloc) == _hostname(request.get_host()):
        return origin
    return None
