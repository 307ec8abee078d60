"""The page a locked-out sign-in gets (django-axes calls `locked_out`; settings.AXES_LOCKOUT_CALLABLE).

One page for every sign-in form (/login/, /admin/login/, /field/login/): it says why, for how long,
and who can lift the lock, in the request's language.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

STATUS = 429


def lockout_message() -> str:
    """The sentence shown to a locked-out user (also the JSON `detail` for scripts)."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return _(
        "Đăng nhập sai quá %(n)d lần: tài khoản hoặc máy của bạn bị tạm khoá đăng nhập trong %(m)d phút. "
        "Hãy thử lại sau, hoặc nhờ quản trị viên mở khoá."
    ) % {"n": settings.AXES_FAILURE_LIMIT, "m": minutes}


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """429 with the lockout sentence: an HTML page, or JSON for scripts."""
    message = lockout_message()
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    if request.headers.get("X-Requested-With") == "XMLHttpRequest" or "json" in request.headers.get("Accept", ""):
        response = HttpResponse(
            json.dumps({"detail": message}, ensure_ascii=False), status=STATUS, content_type="application/json"
        )
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=STATUS)
    response["Retry-After"] = str(minutes * 60)
    return response
