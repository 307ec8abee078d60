"""Query parameters shared by every dashboard view: the time range, the statistic, the communes.

Each parser raises BadRequest with a message a person can act on; views turn it into a 400 (JSON for the
API, a page for HTML). Parsing lives here once so that the map, the KPIs, the charts, the reports and the
tables all read the same range and the same scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from dashboard.templatetags.dashboard_format import day
from gis_ioc import permissions
from gis_ioc.models import AdminUnit

# A leader's default view: the current year so far.
MAX_RANGE_DAYS = 366 * 20


class BadRequest(ValueError):
    """A parameter a person can fix; the message says how."""


class NotFound(LookupError):
    """A commune, statistic or plan that does not exist (or that the user may not see)."""


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            _("“%(name)s” phải là một ngày dạng YYYY-MM-DD, không phải “%(value)s”.") % {"name": name, "value": value}
        ) from None


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """1 January of the current year to today."""
    today = today or dt.date.today()
    return dt.date(today.year, 1, 1), today


def time_range(request: HttpRequest) -> tuple[dt.date, dt.date]:
    """The ?start=&end= range (inclusive dates); the current year to date by default."""
    d_start, d_end = default_range()
    start = _date(request.GET["start"], "start") if request.GET.get("start") else d_start
    end = _date(request.GET["end"], "end") if request.GET.get("end") else d_end
    if end < start:
        raise BadRequest(
            _("Ngày kết thúc (%(end)s) đứng trước ngày bắt đầu (%(start)s): hãy chọn lại khoảng thời gian.")
            % {"start": day(start), "end": day(end)}
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise BadRequest(_("Khoảng thời gian dài quá 20 năm: hãy chọn khoảng ngắn hơn."))
    return start, end


def visible_communes(user: Any, on: dt.date | None = None) -> list[AdminUnit]:
    """The current communes this user may see (all of them unless the user is limited)."""
    qs = AdminUnit.objects.current(on=on).communes().order_by("code").defer("geom")
    return list(permissions.scope_queryset(user, qs, field="code"))


def commune(user: Any, code: str) -> AdminUnit:
    """One current commune the user may see, else NotFound (a scoped user cannot probe other communes)."""
    unit = AdminUnit.objects.current().communes().filter(code=code).defer("geom").first()
    if unit is None or not permissions.can_view_commune(user, code):
        raise NotFound(_("Không có xã/thị trấn mã “%(code)s” (hoặc bạn không được xem xã này).") % {"code": code})
    return unit


def commune_codes_param(request: HttpRequest, user: Any) -> list[str]:
    """?commune=CODE limits a view to one commune; otherwise every commune the user may see."""
    code = request.GET.get("commune")
    if code:
        return [commune(user, code).code]
    return [u.code for u in visible_communes(user)]


def integer(request: HttpRequest, name: str, *, default: int | None = None) -> int | None:
    value = request.GET.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(_("“%(name)s” phải là một số nguyên.") % {"name": name}) from None
