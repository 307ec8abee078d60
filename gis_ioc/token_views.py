"""The page where each signed-in person issues, sees and revokes their own API tokens (/account/tokens/)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gis_ioc import shell
from gis_ioc.models import ApiToken

MAX_ACTIVE_TOKENS = 20  # one per machine or notebook is plenty; a cap bounds what a stolen session can mint
NAME_MAX = ApiToken.NAME_MAX


def _password_session_only(request: HttpRequest) -> HttpResponse | None:
    """A token cannot issue or revoke tokens: a leaked key must not be able to make itself a successor."""
    if getattr(request, "api_token", None) is not None:
        return shell.error_response(
            request, 403, _("Trang khóa API chỉ dùng được khi đăng nhập bằng mật khẩu, không phải bằng khóa API.")
        )
    return None


def _page(request: HttpRequest, status: int = 200, **context: object) -> HttpResponse:
    person: Any = request.user  # signed in (login_required)
    tokens = ApiToken.objects.filter(user=person).order_by("revoked_at", "-created_at", "-id")
    response = render(
        request,
        "gis_ioc/tokens.html",
        {"tokens": tokens, "name_max": NAME_MAX, **context},
        status=status,
    )
    response["Cache-Control"] = "no-store"  # the page may hold a new key: no copy in any cache
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens (name, start of the key, created, last used, revoked). POST `name`: a new
    token, whose key is in this response only — it is stored hashed and can never be shown again."""
    refused = _password_session_only(request)
    if refused is not None:
        return refused
    if request.method != "POST":
        return _page(request)
    person: Any = request.user
    name = " ".join(request.POST.get("name", "").split())
    error = None
    if not name:
        error = _("Hãy đặt tên cho khóa (ví dụ: “QGIS máy phòng Tài nguyên”) để sau này biết khóa nào dùng ở đâu.")
    elif len(name) > NAME_MAX:
        error = _("Tên khóa dài tối đa %(n)d ký tự.") % {"n": NAME_MAX}
    elif ApiToken.objects.active().filter(user=person).count() >= MAX_ACTIVE_TOKENS:
        error = _("Bạn đã có %(n)d khóa đang dùng: hãy thu hồi một khóa không dùng nữa trước khi tạo khóa mới.") % {
            "n": MAX_ACTIVE_TOKENS
        }
    if error:
        return _page(request, status=400, error=error, name=name)
    return _page(request, new_token=ApiToken.issue(person, name))


@login_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the user's own tokens (another person's is 404): refused from the next request on."""
    refused = _password_session_only(request)
    if refused is not None:
        return refused
    person: Any = request.user
    get_object_or_404(ApiToken, pk=token_id, user=person).revoke()
    return redirect("account-tokens")
