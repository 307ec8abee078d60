"""Upload size caps for every door that takes a request body, enforced before anything reads it.

Django parses a multipart body as soon as anyone touches request.POST — and CsrfViewMiddleware does so
before the view runs — writing every uploaded file to a temporary file. A cap checked inside the view
therefore comes after a 10 GB upload has already filled the disk. This middleware sits before the
session and CSRF middleware and refuses a declared Content-Length over the door's cap with a 413 and a
sentence saying the limit; the doors keep their own checks of the actual file sizes.

Limits per door (URL name → bytes; a multipart body may exceed it by ``ENVELOPE`` of framing) are in
``UPLOAD_CAPS``, one place to read them all; any other door accepts ``IOC_REQUEST_MAX_BYTES`` of multipart
data and ``DATA_UPLOAD_MAX_MEMORY_SIZE`` of anything else (JSON, form fields), which is also what Django
itself enforces on bodies it reads into memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

# Multipart framing (boundaries, part headers, the other form fields) on top of the file itself.
ENVELOPE = 1024 * 1024


def _import_limit() -> int:
    from layers.importers.safety import max_upload_bytes

    return max_upload_bytes()


def _raster_limit() -> int:
    return int(settings.IOC_RASTER_UPLOAD_MAX_BYTES)


def _petition_limit() -> int:
    from petitions.conf import conf

    return conf().max_request_bytes


# None: the door checks the declared length itself before reading the body, and answers in its own
# protocol's format (Open311 errors are [{"code", "description"}] in JSON or XML).
UPLOAD_CAPS: dict[str, Callable[[], int] | None] = {
    "imports": _import_limit,  # the import page
    "api-imports": _import_limit,
    "raster-upload": _raster_limit,
    "petitions:new": _petition_limit,  # citizen form with photos
    "petitions:open311-requests": None,  # Open311 POST with media: petitions.throttle, csrf-exempt
    "petitions:field-sync": _petition_limit,  # field app reports with photos
}


def default_limit() -> int:
    """The upload limit of a door not listed in UPLOAD_CAPS."""
    return int(settings.IOC_REQUEST_MAX_BYTES)


def _is_multipart(request: HttpRequest) -> bool:
    return (request.content_type or "").startswith("multipart/")


def limit_for(request: HttpRequest) -> int | None:
    """The upload limit of this request's door, in bytes (None: the door checks it itself)."""
    if not _is_multipart(request):
        # Django reads such bodies into memory and refuses them above this anyway (as a 400).
        return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        return default_limit()
    if name not in UPLOAD_CAPS:
        return default_limit()
    door = UPLOAD_CAPS[name]
    return door() if door is not None else None


def too_large(request: HttpRequest, size: int, limit: int) -> HttpResponse:
    """413 with a sentence a person can act on (JSON for API clients)."""
    message = _("Dữ liệu gửi lên (%(size).1f MB) vượt giới hạn %(limit)s MB. Hãy gửi tệp nhỏ hơn.") % {
        "size": size / 1048576,
        "limit": f"{limit / 1048576:g}",
    }
    if "/api/" in request.path or "json" in request.headers.get("Accept", ""):
        return HttpResponse(
            json.dumps({"detail": message}, ensure_ascii=False), status=413, content_type="application/json"
        )
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class UploadCapMiddleware:
    """Refuses a body larger than its door's cap before the body is read (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse(_("Content-Length không hợp lệ."), status=400, content_type="text/plain; charset=utf-8")
        if size > 0:  # only requests with a body pay for the URL lookup
            limit = limit_for(request)
            # A multipart body carries its file plus boundaries and the other fields.
            allowed = limit + ENVELOPE if limit is not None and _is_multipart(request) else limit
            if allowed is not None and size > allowed:
                return too_large(request, size, limit or 0)
        return self.get_response(request)
