"""Query parameters shared by every dashboard view: the time range, the units (a unit set, or the set in
force on a date), the statistic, the communes.

Each parser raises BadRequest with a message a person can act on; views turn it into a 400 (JSON for the
API, a page for HTML). Parsing lives here once so that the map, the KPIs, the charts, the reports and the
tables all read the same range and the same scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from dashboard.templatetags.dashboard_format import day
from gis_ioc import permissions, unit_sets
from gis_ioc.models import AdminUnit, UnitSet

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


@dataclass(frozen=True)
class UnitChoice:
    """The units a view reports on: ?units=<set slug>, else the set in force on ?as_of= (today)."""

    unit_set: UnitSet | None  # None only on a platform with no units loaded yet
    as_of: dt.date | None = None
    asked: str = ""  # the ?units= value, when given

    @property
    def slug(self) -> str | None:
        return self.unit_set.slug if self.unit_set else None

    def query(self) -> dict[str, str]:
        """The parameters that reproduce this choice in a link (reports, tables, the next view)."""
        out = {}
        if self.asked:
            out["units"] = self.asked
        if self.as_of:
            out["as_of"] = self.as_of.isoformat()
        return out


def unit_choice(request: HttpRequest) -> UnitChoice:
    """Read ?units= and ?as_of=; an unknown set or a date before every set is a BadRequest saying so."""
    as_of = _date(request.GET["as_of"], "as_of") if request.GET.get("as_of") else None
    asked = request.GET.get("units", "").strip()
    try:
        return UnitChoice(unit_sets.resolve(asked or None, as_of), as_of, asked)
    except unit_sets.UnitSetError:
        sets = list(UnitSet.objects.order_by("level", "valid_from"))
        if asked:
            raise BadRequest(
                _("Không có bộ đơn vị “%(slug)s”; các bộ hiện có: %(known)s.")
                % {"slug": asked, "known": ", ".join(s.slug for s in sets) or "—"}
            ) from None
        dated = [s.valid_from for s in sets if s.valid_from and s.level == "commune"]
        if not dated and as_of is None:
            return UnitChoice(None)  # nothing loaded yet: an empty map, not an error
        if dated and as_of and as_of < min(dated):
            raise BadRequest(
                _("Ngày “%(day)s” nằm trước bộ đơn vị hành chính đầu tiên (%(first)s): hãy chọn ngày muộn hơn.")
                % {"day": day(as_of), "first": day(min(dated))}
            ) from None
        raise BadRequest(
            _("Không có bộ đơn vị cấp xã nào có hiệu lực ngày %(day)s.") % {"day": day(as_of or dt.date.today())}
        ) from None


def visible_communes(user: Any, choice: UnitChoice | None = None) -> list[AdminUnit]:
    """The units of the chosen set (today's communes by default) this user may see: all of them, or for a
    user limited to some communes, the units lying wholly inside them (unit_sets.within_scope)."""
    if choice is None:
        try:
            choice = UnitChoice(unit_sets.resolve())
        except unit_sets.UnitSetError:
            return []
    if choice.unit_set is None:
        return []
    members = list(choice.unit_set.members.order_by("code").defer("geom"))
    scope = permissions.commune_scope(user)
    if scope is None:
        return members
    allowed = unit_sets.within_scope(choice.unit_set, scope)
    return [u for u in members if u.code in allowed]


def commune(user: Any, code: str, choice: UnitChoice | None = None) -> AdminUnit:
    """One unit of the chosen set the user may see, else NotFound (a scoped user cannot probe others)."""
    unit = next((u for u in visible_communes(user, choice) if u.code == code), None)
    if unit is None:
        raise NotFound(_("Không có xã/thị trấn mã “%(code)s” (hoặc bạn không được xem xã này).") % {"code": code})
    return unit


def commune_codes_param(request: HttpRequest, user: Any, choice: UnitChoice | None = None) -> list[str]:
    """?commune=CODE limits a view to one commune; otherwise every commune the user may see."""
    code = request.GET.get("commune")
    if code:
        return [commune(user, code, choice).code]
    return [u.code for u in visible_communes(user, choice)]


def integer(request: HttpRequest, name: str, *, default: int | None = None) -> int | None:
    value = request.GET.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(_("“%(name)s” phải là một số nguyên.") % {"name": name}) from None
