"""The one permission layer. Every channel (REST, OGC API, tiles, MapProxy, exports, dashboard,
notebooks) asks these functions "may this user see / edit this layer, field, feature, commune?".

Rules:
- A layer is public, staff-only (any signed-in user) or limited to roles. Administrators see everything.
- An attribute of a layer has the same three levels; a field the user may not see is absent.
- A user may be limited to some communes (UserScope); then every feature query is filtered to them.
- Editing needs a role listed in the layer's edit_roles (or administrator), and the feature's commune in
  the user's scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet

from gis_ioc import roles

if TYPE_CHECKING:
    from layers.models import Layer

AnyUser = User | AnonymousUser | None
_QS = TypeVar("_QS", bound=QuerySet[Any])  # scope_queryset keeps the queryset's own class and methods

CHANNELS = ("rest", "ogc", "tiles", "export", "dashboard")


def role_names(user: AnyUser) -> frozenset[str]:
    """The roles of the user (empty for anonymous); superusers are administrators."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_ioc_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def remember_roles(user: User, group_names: Iterable[str]) -> frozenset[str]:
    """Cache the user's roles from their group names (for callers that fetched them already);
    superusers are administrators."""
    held = frozenset(group_names)
    if user.is_superuser:
        held = held | {roles.ADMINISTRATOR}
    user._ioc_roles = held  # type: ignore[attr-defined]
    return held


def is_admin(user: AnyUser) -> bool:
    return roles.ADMINISTRATOR in role_names(user)


def has_role(user: AnyUser, *names: str) -> bool:
    """Does the user hold any of the roles (administrators hold every role)?"""
    held = role_names(user)
    return roles.ADMINISTRATOR in held or bool(held.intersection(names))


def _level_allows(user: AnyUser, visibility: str, allowed_roles: Iterable[str]) -> bool:
    if visibility == "public":
        return True
    if user is None or not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    if visibility == "staff":
        return True
    return bool(role_names(user).intersection(allowed_roles or ()))


# --- communes ---------------------------------------------------------------------------------
def commune_scope(user: AnyUser) -> frozenset[str] | None:
    """GSO codes the user is limited to, or None when not limited.

    A user without a scope row (district-level staff) and administrators are not limited. A scope row
    limits the user to its codes — an empty list is no commune at all, never "everything": a scope that
    lost its communes must fail closed."""
    if user is None or not user.is_authenticated or is_admin(user):
        return None
    try:
        scope = user.scope
    except ObjectDoesNotExist:  # no scope row: the whole district
        return None
    if scope is None:
        return None
    return frozenset(scope.commune_codes or ())


def can_view_commune(user: AnyUser, code: str) -> bool:
    scope = commune_scope(user)
    return scope is None or code in scope


def scope_queryset(user: AnyUser, qs: _QS, field: str = "commune_code") -> _QS:
    """Filter a queryset to the user's communes (no-op when the user is not limited; none when the scope
    is empty)."""
    scope = commune_scope(user)
    if scope is None:
        return qs
    return qs.filter(**{f"{field}__in": sorted(scope)})


def scope_sql(user: AnyUser, column: str = "commune_code") -> tuple[str, list[Any]]:
    """The same filter as SQL for code that reads a table directly: (clause, params). Layers read through
    `layers.source.LayerSource.scope`, which also refuses layers that cannot be scoped."""
    scope = commune_scope(user)
    if scope is None:
        return "TRUE", []
    if not scope:
        return "FALSE", []
    return f"{column} = ANY(%s)", [sorted(scope)]


# --- layers -----------------------------------------------------------------------------------
def can_view_layer(user: AnyUser, layer: Layer) -> bool:
    return _level_allows(user, layer.visibility, layer.allowed_roles)


def visible_layers(user: AnyUser, qs: QuerySet[Layer] | None = None) -> QuerySet[Layer]:
    """The catalog as this user may see it."""
    from layers.models import Layer

    qs = qs if qs is not None else Layer.objects.all()
    if is_admin(user):
        return qs
    if user is None or not user.is_authenticated:
        return qs.filter(visibility="public")
    held = list(role_names(user))
    return qs.filter(Q(visibility__in=["public", "staff"]) | Q(visibility="roles", allowed_roles__overlap=held))


def can_edit_layer(user: AnyUser, layer: Layer) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    return can_view_layer(user, layer) and bool(role_names(user).intersection(layer.edit_roles or ()))


def can_edit_feature(user: AnyUser, layer: Layer, commune_code: str | None) -> bool:
    """Edit a feature: edit right on the layer and the feature's commune within the user's scope."""
    return can_edit_layer(user, layer) and (not commune_code or can_view_commune(user, commune_code))


def can_import(user: AnyUser, layer: Layer | None = None) -> bool:
    """Importing is GIS staff's work (administrators too); into an existing layer it also needs edit rights."""
    if not has_role(user, roles.GIS_STAFF):
        return False
    return layer is None or can_edit_layer(user, layer)


def can_export_layer(user: AnyUser, layer: Layer) -> bool:
    """Exports follow viewing rights: whoever may see a layer may take it to QGIS or Excel."""
    return can_view_layer(user, layer)


def visible_fields(user: AnyUser, layer: Layer, channel: str = "rest") -> list[str]:
    """Names of the whitelisted attributes this user may see through this channel, in catalog order."""
    names = []
    for attr in layer.attributes or []:
        channels = attr.get("channels")
        if channels and channel not in channels:
            continue
        if _level_allows(user, attr.get("visibility", "public"), attr.get("roles", [])):
            names.append(attr["name"])
    return names


def can_view_field(user: AnyUser, layer: Layer, name: str, channel: str = "rest") -> bool:
    return name in visible_fields(user, layer, channel)


# --- petitions workflow -----------------------------------------------------------------------
# Who may take each workflow step (petitions.workflow names the steps). Agency steps additionally need
# membership of the petition's assigned agency; every step needs the petition's commune in scope.
PETITION_ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "verify": (roles.FIELD_OFFICER, roles.LEADER),
    "reject": (roles.FIELD_OFFICER, roles.LEADER),
    "mark_duplicate": (roles.FIELD_OFFICER, roles.LEADER),
    "assign": (roles.LEADER,),
    "reassign": (roles.LEADER,),
    "start": (roles.AGENCY_STAFF,),
    "resolve": (roles.AGENCY_STAFF,),
    "close": (roles.LEADER, roles.AGENCY_STAFF),
    "reopen": (roles.LEADER,),
    "dispatch": (roles.LEADER,),  # send a field officer to verify on site (no status change)
}
_AGENCY_ONLY = {"start", "resolve"}


def is_agency_member(user: AnyUser, agency_id: int | None) -> bool:
    """Is the user a member of the agency (by id)?"""
    if user is None or not user.is_authenticated or agency_id is None:
        return False
    return user.petition_agencies.filter(pk=agency_id).exists()


def can_act_on_petition(user: AnyUser, petition: Any, action: str) -> bool:
    """May the user take this workflow step on this petition (role, commune scope, assigned agency)?

    Only the assigned agency's staff start and resolve; closing is for leaders or that agency; leaders
    (re)assign and reopen; field officers and leaders verify, reject and mark duplicates.
    """
    allowed = PETITION_ACTION_ROLES.get(action)
    if allowed is None or user is None or not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    if not role_names(user).intersection(allowed) or not can_view_commune(user, petition.commune_code):
        return False
    agency_member = is_agency_member(user, petition.agency_id)
    if action in _AGENCY_ONLY:
        return agency_member
    if action == "close" and not has_role(user, roles.LEADER):
        return agency_member
    return True


def can_view_petition_private(user: AnyUser, petition: Any) -> bool:
    """Reporters' names and phones: leaders and agency staff in scope, and the officer verifying it."""
    if user is None or not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    if not can_view_commune(user, petition.commune_code):
        return False
    if has_role(user, roles.LEADER, roles.AGENCY_STAFF):
        return True
    return petition.field_officer_id is not None and petition.field_officer_id == user.pk


def can_manage_petitions(user: AnyUser) -> bool:
    """May the user open the staff petition desk (list, history, escalations)?"""
    return has_role(user, roles.LEADER, roles.AGENCY_STAFF, roles.FIELD_OFFICER)
