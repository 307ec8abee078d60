"""The one shell around every page: its menu, who is signed in, and the error pages.

Every HTML page extends `gis_ioc/shell.html` (one header, one stylesheet `gis_ioc/shell.css`, app scripts as
ES modules). The menu is declared here once, as `ENTRIES`: each entry names its page and the rule that decides
who may use it. The rule is the very function the page's view applies (analysis.service.can_view,
permissions.can_import, …), never a second copy, so an entry is shown exactly to those the page lets in;
`tests/gis_ioc/test_shell.py` opens every entry's page as every role to hold that.

Error pages (403, 404, 500 and a refused CSRF check) are drawn inside the shell in the user's language with a
way back; API paths get the same message as JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gis_ioc import permissions, roles

log = logging.getLogger(__name__)

Rule = Callable[[Any], bool]


def everyone(user: Any) -> bool:
    """Public pages: anyone, signed in or not."""
    return True


def signed_in(user: Any) -> bool:
    """Pages for any signed-in account."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def visitors(user: Any) -> bool:
    """The citizens' doors: shown to visitors, not in a staff member's working menu."""
    return not signed_in(user)


def _may_compare(user: Any) -> bool:
    from dashboard.planning import may_compare

    return may_compare(user)


def _may_view_analyses(user: Any) -> bool:
    from analysis.service import can_view

    return can_view(user)


def _may_edit_alert_rules(user: Any) -> bool:
    from alerts.views import may_edit_rules

    return may_edit_rules(user)


def _may_use_field_app(user: Any) -> bool:
    from petitions.views.field_app import may_use

    return may_use(user)


def _may_open_admin(user: Any) -> bool:
    # Django's own admin rule (AdminSite.has_permission); is_staff follows the roles (gis_ioc.roles).
    return signed_in(user) and bool(user.is_staff)


@dataclass(frozen=True)
class Entry:
    """One item of the menu: its page, its label, its group and who may use it."""

    key: str
    label: Any  # a lazy translation: evaluated in the request's language
    url_name: str
    group: str
    may: Rule
    url_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return reverse(self.url_name, args=self.url_args)


# Groups, in menu order.
GROUPS = {
    "map": gettext_lazy("Bản đồ và số liệu"),
    "work": gettext_lazy("Nghiệp vụ"),
    "data": gettext_lazy("Dữ liệu"),
    "public": gettext_lazy("Dịch vụ công"),
    "system": gettext_lazy("Hệ thống"),
}

ENTRIES: tuple[Entry, ...] = (
    Entry("map", gettext_lazy("Bản đồ điều hành"), "dashboard-home", "map", everyone),
    Entry("communes", gettext_lazy("Hồ sơ xã"), "dashboard-communes", "map", everyone),
    Entry("compare", gettext_lazy("So sánh quy hoạch"), "planning-compare", "map", _may_compare),
    Entry("lookup", gettext_lazy("Tra cứu quy hoạch thửa đất"), "planning-lookup", "public", everyone),
    Entry("alerts", gettext_lazy("Trung tâm cảnh báo"), "alerts:centre", "work", signed_in),
    Entry("alert-rules", gettext_lazy("Quy tắc cảnh báo"), "alerts:rules", "work", _may_edit_alert_rules),
    Entry("desk", gettext_lazy("Xử lý phản ánh"), "petitions:desk", "work", permissions.can_manage_petitions),
    Entry("field", gettext_lazy("Ứng dụng hiện trường"), "petitions:field", "work", _may_use_field_app),
    Entry("analyses", gettext_lazy("Phân tích không gian"), "analysis-list", "data", _may_view_analyses),
    Entry("imports", gettext_lazy("Nhập dữ liệu"), "imports", "data", lambda user: permissions.can_import(user)),
    Entry("exports", gettext_lazy("Xuất dữ liệu"), "exports", "data", signed_in),
    Entry("catalog", gettext_lazy("Danh mục lớp dữ liệu"), "ogc-collections", "data", everyone),
    Entry("petition-new", gettext_lazy("Gửi phản ánh"), "petitions:new", "public", visitors),
    Entry("petition-track", gettext_lazy("Tra cứu phản ánh"), "petitions:track", "public", visitors),
    Entry("tokens", gettext_lazy("Khóa API"), "account-tokens", "system", signed_in),
    Entry("admin", gettext_lazy("Quản trị"), "admin:index", "system", _may_open_admin),
)


def entries_for(user: Any) -> list[Entry]:
    """The menu entries this user may use, in menu order."""
    return [entry for entry in ENTRIES if entry.may(user)]


def menu_for(user: Any, path: str = "") -> list[dict[str, Any]]:
    """The menu as the template draws it: groups of links, the current page marked."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries_for(user):
        url = entry.url
        current = path == url if url == "/" else path.startswith(url.split("?")[0])
        groups.setdefault(entry.group, []).append(
            {"key": entry.key, "label": entry.label, "url": url, "current": current}
        )
    return [{"label": GROUPS[key], "items": groups[key]} for key in GROUPS if key in groups]


def identity(user: Any) -> dict[str, Any] | None:
    """Who is signed in, as the header shows it: name, roles, and the communes they are limited to."""
    if not signed_in(user):
        return None
    held = permissions.role_names(user)
    role_labels = [str(label) for code, label in roles.ROLES.items() if code in held]
    scope = permissions.commune_scope(user)
    if scope is None:
        area = _("Toàn huyện")
    elif not scope:
        area = _("Chưa được giao địa bàn")
    else:
        from gis_ioc.models import AdminUnit

        names = sorted(AdminUnit.objects.current().communes().filter(code__in=scope).values_list("name", flat=True))
        area = ", ".join(names) or ", ".join(sorted(scope))
    return {
        "name": user.get_full_name() or user.get_username(),
        "roles": ", ".join(role_labels) or _("Chưa có vai trò"),
        "area": area,
    }


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: `shell.menu` and `shell.who`, computed only when a page draws them."""
    user = getattr(request, "user", None)
    path = request.path
    return {
        "shell": SimpleLazyObject(lambda: {"menu": menu_for(user, path), "who": identity(user)}),
    }


# --- error pages -------------------------------------------------------------------------------------
API_PREFIXES = ("/api/", "/ogc/", "/open311/", "/tiles/", "/sta/", "/dashboard/api/", "/planning/api/", "/field/api/")
TITLES = {
    400: gettext_lazy("Yêu cầu không hợp lệ"),
    403: gettext_lazy("Bạn không có quyền mở trang này"),
    404: gettext_lazy("Không tìm thấy trang"),
    405: gettext_lazy("Phương thức không được hỗ trợ"),
    500: gettext_lazy("Hệ thống gặp lỗi"),
}


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith(API_PREFIXES) or ("application/json" in accept and "text/html" not in accept)


def _message(exception: BaseException | None) -> str:
    """The exception's own message when a view gave one a person can read (PermissionDenied("…"))."""
    if exception is None or not exception.args:
        return ""
    text = str(exception.args[0])
    # Django's resolver puts a dict of technical details in a 404's args; those are not for people.
    return text if isinstance(exception.args[0], str) and "\n" not in text and len(text) < 300 else ""


def error_response(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    """The error page inside the shell (or JSON for API paths), in the user's language, with a way back."""
    title = str(TITLES.get(status, TITLES[400]))
    if _wants_json(request):
        return JsonResponse({"detail": message or title, "status": status}, status=status)
    user = getattr(request, "user", None)
    context = {
        "status": status,
        "title": title,
        "message": message,
        "sign_in": status == 403 and not signed_in(user),
        "next": request.get_full_path(),
    }
    try:
        body = render_to_string("gis_ioc/error.html", context, request=request)
    except Exception:  # the error may be the database itself: the page must still be drawn
        log.exception("error page drawn without the shell")
        body = render_to_string("gis_ioc/error_plain.html", context)
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return error_response(request, 400, _message(exception))


def permission_denied(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return error_response(request, 403, _message(exception))


def page_not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500, _("Lỗi đã được ghi lại. Vui lòng thử lại sau ít phút."))


class MethodNotAllowedMiddleware:
    """Django's `require_GET`/`require_POST` answer 405 with an empty body: give it the shell's message (or
    JSON on API paths) naming the methods the address accepts, keeping the Allow header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or getattr(response, "streaming", False) or response.content:
            return response
        allowed = response.get("Allow", "")
        message = _("Địa chỉ này không nhận yêu cầu %(method)s; hãy dùng %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed or "GET",
        }
        answer = error_response(request, 405, message)
        if allowed:
            answer["Allow"] = allowed
        return answer


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(request, 403, _("Phiên làm việc của biểu mẫu đã hết hạn. Hãy tải lại trang rồi gửi lại."))
