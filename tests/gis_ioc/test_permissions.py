"""The permission matrix: every role against public / staff / role-limited layers and fields, and scope.

The expected tables are written out by hand (not derived from gis_ioc.permissions), so a change of a
rule shows up here as a changed row that someone has to agree with.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from gis_ioc import permissions as perms
from gis_ioc.models import AdminUnit, UserScope
from layers.models import Layer
from tests.conftest import make_user

USERS = ["anonymous", "no_role", "leader", "planner", "field_officer", "gis_staff", "agency_staff", "administrator",
         "superuser"]  # fmt: skip

ATTRIBUTES = [
    {"name": "name", "visibility": "public"},
    {"name": "phone", "visibility": "staff"},
    {"name": "income", "visibility": "roles", "roles": ["leader"]},
    {"name": "note", "visibility": "public", "channels": ["rest", "export"]},
]


@pytest.fixture
def layers(db) -> dict[str, Layer]:
    def layer(slug: str, visibility: str, allowed: list[str], edit: list[str]) -> Layer:
        return Layer.objects.create(
            slug=slug, title_vi=slug, title_en=slug, visibility=visibility, allowed_roles=allowed, edit_roles=edit,
            attributes=ATTRIBUTES, source_model="gis_ioc.AdminUnit",
        )  # fmt: skip

    return {
        "public": layer("t-public", "public", [], ["gis_staff", "field_officer"]),
        "staff": layer("t-staff", "staff", [], ["gis_staff"]),
        # gis_staff is listed as an editor but may not see the layer: no editing what you cannot see.
        "roles": layer("t-roles", "roles", ["leader", "planner"], ["planner", "gis_staff"]),
    }


@pytest.fixture
def users(db) -> dict[str, object]:
    made: dict[str, object] = {"anonymous": AnonymousUser()}
    made["no_role"] = make_user("no_role")
    for role in ["leader", "planner", "field_officer", "gis_staff", "agency_staff", "administrator"]:
        made[role] = make_user(role, role)
    made["superuser"] = User.objects.create_superuser("superuser", "su@example.org", "pw-superuser-123")
    return made


VIEW = {  # user: (public, staff, roles)
    "anonymous": (True, False, False),
    "no_role": (True, True, False),
    "leader": (True, True, True),
    "planner": (True, True, True),
    "field_officer": (True, True, False),
    "gis_staff": (True, True, False),
    "agency_staff": (True, True, False),
    "administrator": (True, True, True),
    "superuser": (True, True, True),
}
EDIT = {  # user: (public, staff, roles)
    "anonymous": (False, False, False),
    "no_role": (False, False, False),
    "leader": (False, False, False),
    "planner": (False, False, True),
    "field_officer": (True, False, False),
    "gis_staff": (True, True, False),
    "agency_staff": (False, False, False),
    "administrator": (True, True, True),
    "superuser": (True, True, True),
}
FIELDS = {  # user: (rest, tiles)
    "anonymous": (["name", "note"], ["name"]),
    "no_role": (["name", "phone", "note"], ["name", "phone"]),
    "leader": (["name", "phone", "income", "note"], ["name", "phone", "income"]),
    "planner": (["name", "phone", "note"], ["name", "phone"]),
    "field_officer": (["name", "phone", "note"], ["name", "phone"]),
    "gis_staff": (["name", "phone", "note"], ["name", "phone"]),
    "agency_staff": (["name", "phone", "note"], ["name", "phone"]),
    "administrator": (["name", "phone", "income", "note"], ["name", "phone", "income"]),
    "superuser": (["name", "phone", "income", "note"], ["name", "phone", "income"]),
}


@pytest.mark.parametrize("who", USERS)
def test_who_may_view_each_kind_of_layer(who, users, layers):
    user = users[who]
    seen = tuple(perms.can_view_layer(user, layers[kind]) for kind in ("public", "staff", "roles"))
    assert seen == VIEW[who]
    listed = set(perms.visible_layers(user, Layer.objects.filter(slug__startswith="t-")).values_list("slug", flat=True))
    assert listed == {f"t-{kind}" for kind, ok in zip(("public", "staff", "roles"), VIEW[who], strict=True) if ok}
    assert tuple(perms.can_export_layer(user, layers[k]) for k in ("public", "staff", "roles")) == VIEW[who]


@pytest.mark.parametrize("who", USERS)
def test_who_may_edit_each_kind_of_layer(who, users, layers):
    user = users[who]
    assert tuple(perms.can_edit_layer(user, layers[kind]) for kind in ("public", "staff", "roles")) == EDIT[who]


@pytest.mark.parametrize("who", USERS)
def test_which_fields_each_user_sees_per_channel(who, users, layers):
    user = users[who]
    rest, tiles = FIELDS[who]
    assert perms.visible_fields(user, layers["public"], "rest") == rest
    assert perms.visible_fields(user, layers["public"], "tiles") == tiles
    assert perms.can_view_field(user, layers["public"], "income", "rest") == ("income" in rest)


def test_roles_of_users(users):
    assert perms.role_names(users["anonymous"]) == frozenset()
    assert perms.role_names(users["planner"]) == {"planner"}
    assert perms.role_names(users["superuser"]) == {"administrator"}
    assert perms.has_role(users["administrator"], "leader")  # administrators hold every role
    assert not perms.has_role(users["planner"], "leader")


def test_a_scoped_officer_sees_and_edits_only_their_communes(district, scoped_officer, layers):
    assert perms.commune_scope(scoped_officer) == {"24931", "24937"}
    assert perms.can_view_commune(scoped_officer, "24931")
    assert not perms.can_view_commune(scoped_officer, "24928")
    communes = perms.scope_queryset(scoped_officer, AdminUnit.objects.current().communes(), field="code")
    assert sorted(communes.values_list("code", flat=True)) == ["24931", "24937"]
    clause, params = perms.scope_sql(scoped_officer, "code")
    assert sorted(AdminUnit.objects.extra(where=[clause], params=params).current().communes().values_list(
        "code", flat=True)) == ["24931", "24937"]  # fmt: skip
    assert perms.can_edit_feature(scoped_officer, layers["public"], "24937")
    assert not perms.can_edit_feature(scoped_officer, layers["public"], "24928")
    assert not perms.can_edit_feature(scoped_officer, layers["staff"], "24937")  # no edit role there


def test_unscoped_users_and_administrators_are_not_limited(district, field_officer, administrator):
    UserScope.objects.create(user=administrator, commune_codes=["24931"])
    for user in (field_officer, administrator, AnonymousUser()):
        assert perms.commune_scope(user) is None
        assert perms.scope_queryset(user, AdminUnit.objects.current().communes(), field="code").count() == 9
        assert perms.scope_sql(user, "code") == ("TRUE", [])


def test_an_empty_scope_row_limits_the_user_to_nothing(district, field_officer):
    """A scope that lost its communes fails closed: nothing, never the whole district."""
    UserScope.objects.create(user=field_officer, commune_codes=[])
    assert perms.commune_scope(field_officer) == frozenset()
    assert perms.scope_queryset(field_officer, AdminUnit.objects.current().communes(), field="code").count() == 0
    assert perms.scope_sql(field_officer, "code") == ("FALSE", [])


IMPORT = {  # user: (new layer, into the staff layer, into the role-limited layer)
    "anonymous": (False, False, False),
    "no_role": (False, False, False),
    "leader": (False, False, False),
    "planner": (False, False, False),
    "field_officer": (False, False, False),
    "gis_staff": (True, True, False),  # listed as editor of t-roles but may not see it
    "agency_staff": (False, False, False),
    "administrator": (True, True, True),
    "superuser": (True, True, True),
}


@pytest.mark.parametrize("who", USERS)
def test_only_gis_staff_import_and_only_into_layers_they_may_edit(who, users, layers):
    user = users[who]
    got = (perms.can_import(user), perms.can_import(user, layers["staff"]), perms.can_import(user, layers["roles"]))
    assert got == IMPORT[who]
