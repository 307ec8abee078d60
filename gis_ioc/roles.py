"""The platform's roles. Each is a Django group of the same name; `ensure_role_groups` creates them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LEADER = "leader"
PLANNER = "planner"
FIELD_OFFICER = "field_officer"
GIS_STAFF = "gis_staff"
AGENCY_STAFF = "agency_staff"
ADMINISTRATOR = "administrator"

ROLES = {
    LEADER: _("Lãnh đạo"),
    PLANNER: _("Cán bộ quy hoạch"),
    FIELD_OFFICER: _("Cán bộ hiện trường"),
    GIS_STAFF: _("Cán bộ GIS"),
    AGENCY_STAFF: _("Cán bộ cơ quan chuyên môn"),
    ADMINISTRATOR: _("Quản trị hệ thống"),
}


def ensure_role_groups() -> None:
    """Create the role groups if they are missing (idempotent)."""
    from django.contrib.auth.models import Group

    for name in ROLES:
        Group.objects.get_or_create(name=name)
