"""What each role finds in /admin/: the models on the index, the lists that open, the ones refused.

The expectations are generated from the declaration (gis_ioc.roles.ROLE_PERMISSIONS), so giving a role a
model extends these tests by itself; the hand-written tests below pin the decisions people rely on
(GIS staff keep the catalog, agency staff do not; leaders have no admin; commune scope holds in the admin).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.urls import reverse

from gis_ioc import roles
from layers.catalog_defaults import DEFAULT_LAYERS
from layers.models import Dossier, Layer, School
from tests import factories as f
from tests.conftest import make_user

# The personas: each demo role, a field officer limited to two communes (the demo's officer_thanhmy) and
# GIS staff limited to one (a commune limit changes which rows, never which models).
PERSONAS = {
    "leader": roles.LEADER,
    "planner": roles.PLANNER,
    "field_officer": roles.FIELD_OFFICER,
    "gis_staff": roles.GIS_STAFF,
    "agency_staff": roles.AGENCY_STAFF,
    "administrator": roles.ADMINISTRATOR,
    "scoped_officer": roles.FIELD_OFFICER,
    "scoped_gis_staff": roles.GIS_STAFF,
}

# Registered in the admin but kept by administrators alone (decided, not forgotten): people and their
# rights, the petitions' records and settings (agency and leader work goes through the desk's workflow),
# analyses (run and read at /analyses/, which applies scope), API tokens and the job queue.
ADMINISTRATORS_ONLY = {
    "auth.User", "auth.Group", "gis_ioc.UserScope", "gis_ioc.ApiToken", "procrastinate.ProcrastinateJob",
    "analysis.Analysis", "petitions.Petition", "petitions.FieldReport", "petitions.Agency", "petitions.RoutingRule",
    "petitions.CategoryDeadline",
    "axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog",  # sign-in locks: administrators lift them
    # Leaders define rules and act on alerts on their own pages (/alerts/, scoped); the admin's unscoped lists,
    # the webhook secrets and the delivery log are the administrators'.
    "alerts.Rule", "alerts.Alert", "alerts.WebhookEndpoint", "alerts.Delivery",
}  # fmt: skip

# Written by the system only: listed and opened, never added through a form.
SYSTEM_WRITTEN = {"layers.LayerChange", "layers.ImportJob"}

REGISTERED = sorted(m._meta.label for m in admin.site._registry)


def model_of(label: str) -> type:
    return next(m for m in admin.site._registry if m._meta.label == label)


def url(label: str, view: str = "changelist") -> str:
    opts = model_of(label)._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}")


def verbs(role: str, label: str) -> set[str]:
    return {verb for model, verb in roles.declared_permissions(role) if model == label}


def persona(name: str) -> User:
    if name.startswith("scoped_"):
        return make_user(name, PERSONAS[name], communes=["24931", "24937"])
    return make_user(name, PERSONAS[name])


def sign_in(client, user: User):
    """Through the admin's own login form, as a person would."""
    return client.post(
        reverse("admin:login") + "?next=/admin/", {"username": user.username, "password": f"pw-{user.username}-123"}
    )


# --- generated from the declaration ---------------------------------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
def test_the_admin_index_shows_each_role_exactly_the_models_it_keeps(client, db, name):
    user = persona(name)
    role = PERSONAS[name]
    response = sign_in(client, user)
    if role not in roles.admin_roles():
        assert response.status_code == 200  # the login form again, with the reason
        assert "_auth_user_id" not in client.session
        assert client.get("/admin/").status_code == 302  # to the login page
        return
    assert response.status_code == 302 and response.url == "/admin/"
    index = client.get("/admin/")
    assert index.status_code == 200
    shown = {f"{app['app_label']}.{m['object_name']}" for app in index.context["app_list"] for m in app["models"]}
    expected = {label for label in REGISTERED if verbs(role, label)}
    assert shown == expected


@pytest.mark.parametrize("name", PERSONAS)
def test_each_list_opens_or_is_refused_as_the_role_declares(client, db, name):
    user = persona(name)
    role = PERSONAS[name]
    client.force_login(user)
    for label in REGISTERED:
        response = client.get(url(label))
        if role not in roles.admin_roles():
            assert response.status_code == 302 and "/admin/login/" in response.url, label
        elif verbs(role, label) & {"view", "change"}:
            assert response.status_code == 200, label
        else:
            assert response.status_code == 403, label


@pytest.mark.parametrize("name", [n for n, r in PERSONAS.items() if r in roles.admin_roles() - {roles.ADMINISTRATOR}])
def test_each_add_form_opens_only_for_what_the_role_may_create(client, db, name):
    client.force_login(persona(name))
    for label in REGISTERED:
        may_add = "add" in verbs(PERSONAS[name], label) and label not in SYSTEM_WRITTEN
        assert client.get(url(label, "add")).status_code == (200 if may_add else 403), label


def test_every_model_in_the_admin_is_kept_by_a_role_or_left_to_administrators_on_purpose():
    kept = {label for role in roles.ROLES if role != roles.ADMINISTRATOR for label in roles.ROLE_PERMISSIONS[role]}
    undecided = set(REGISTERED) - kept - ADMINISTRATORS_ONLY
    assert not undecided, f"decide who keeps {sorted(undecided)} in gis_ioc/roles.py (or list it above)"


def test_the_roles_that_edit_a_default_layer_keep_its_records_in_the_admin():
    # The catalog's default edit roles and the admin must tell the same story. Petitions are the exception:
    # they change through the workflow only, never by a raw edit.
    for spec in DEFAULT_LAYERS:
        model = spec.get("source_model", "")
        if not model or model == "petitions.Petition":
            continue
        for role in spec.get("edit_roles", []):
            assert "change" in verbs(role, model), f"{role} edits {spec['slug']} through the API but not in the admin"


def test_a_typo_in_the_declaration_fails_the_system_check(monkeypatch):
    assert roles.check_role_permissions() == []
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.PLANNER, {"layers.PlaningZone": ("view", "edit")})
    errors = {e.id for e in roles.check_role_permissions()}
    assert errors == {"gis_ioc.E102", "gis_ioc.E103"}


def test_each_role_group_holds_exactly_the_declared_permissions(db):
    roles.ensure_role_groups()
    for role in roles.ROLES:
        held = {
            (p.content_type.model_class()._meta.label, p.codename.split("_", 1)[0])
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert held == roles.declared_permissions(role), role


# --- hand-written expectations ----------------------------------------------------------------------


def test_gis_staff_open_the_catalog_and_change_a_layer(client, gis_staff):
    client.force_login(gis_staff)
    assert client.get("/admin/layers/layer/").status_code == 200
    layer = Layer.objects.get(slug="schools")
    change = reverse("admin:layers_layer_change", args=[layer.pk])
    form = client.get(change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        title_vi="Trường học (đã sửa)", attributes='[{"name": "name"}]', style="{}", legend="[]", source_filter="{}",
        allowed_roles="", edit_roles="gis_staff", search_fields="name",
    )  # fmt: skip
    response = client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    layer.refresh_from_db()
    assert layer.title_vi == "Trường học (đã sửa)"
    for path in ["/admin/layers/school/", "/admin/gis_ioc/adminunit/", "/admin/layers/importmapping/"]:
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/auth/user/").status_code == 403  # people and rights stay with administrators


def test_agency_staff_keep_their_records_but_not_the_catalog(client, agency_staff):
    client.force_login(agency_staff)
    layer = Layer.objects.get(slug="schools")
    assert client.get("/admin/layers/layer/").status_code == 403
    assert client.get(reverse("admin:layers_layer_change", args=[layer.pk])).status_code == 403
    assert client.post(reverse("admin:layers_layer_change", args=[layer.pk]), {"title_vi": "x"}).status_code == 403
    assert client.get("/admin/layers/dossier/").status_code == 200
    assert client.get("/admin/petitions/petition/").status_code == 403  # petitions: the desk's workflow only


def test_planners_keep_planning_and_nothing_else(client, planner):
    client.force_login(planner)
    assert client.get("/admin/layers/planningzone/").status_code == 200
    assert client.get("/admin/layers/planningplan/add/").status_code == 200
    assert client.get("/admin/layers/school/").status_code == 403


def test_leaders_and_field_officers_are_refused_at_the_admin_login(client, leader, field_officer):
    for user in (leader, field_officer):
        response = sign_in(client, user)
        assert response.status_code == 200
        assert response.context["form"].errors  # Django's "not a staff account" message
        assert not User.objects.get(pk=user.pk).is_staff


# --- is_staff follows the roles ----------------------------------------------------------------------


def test_admin_access_comes_and_goes_with_the_role(db):
    user = make_user("someone")
    assert not user.is_staff
    user.groups.add(Group.objects.get(name=roles.GIS_STAFF))
    assert user.is_staff and User.objects.get(pk=user.pk).is_staff
    user.groups.remove(Group.objects.get(name=roles.GIS_STAFF))
    assert not user.is_staff and not User.objects.get(pk=user.pk).is_staff
    # from the group's side too (the admin's group form, scripts)
    Group.objects.get(name=roles.PLANNER).user_set.add(user)
    assert User.objects.get(pk=user.pk).is_staff
    Group.objects.get(name=roles.PLANNER).user_set.clear()
    assert not User.objects.get(pk=user.pk).is_staff


def test_a_saved_user_keeps_the_flag_the_roles_give(db):
    user = make_user("no_role_yet")
    user.is_staff = True  # set by hand: not a role's decision
    user.save()
    assert not User.objects.get(pk=user.pk).is_staff
    leader = make_user("a_leader", roles.LEADER)
    assert not leader.is_staff
    root = User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    assert User.objects.get(pk=root.pk).is_staff


def test_groups_are_set_again_after_migrate(db):
    stray = Permission.objects.get(codename="delete_user")
    gis = Group.objects.get(name=roles.GIS_STAFF)
    gis.permissions.add(stray)
    gis.permissions.remove(Permission.objects.get(codename="change_layer"))
    call_command("migrate", verbosity=0, interactive=False)
    codenames = set(gis.permissions.values_list("codename", flat=True))
    assert "delete_user" not in codenames and "change_layer" in codenames
    call_command("migrate", verbosity=0, interactive=False)  # idempotent: the same set again
    assert set(gis.permissions.values_list("codename", flat=True)) == codenames


def test_demo_accounts_are_staff_exactly_where_their_role_keeps_something(db, capsys):
    call_command("demo_users")
    staff = dict(User.objects.values_list("username", "is_staff"))
    for role in roles.ROLES:
        assert staff[role] == (role in roles.admin_roles()), role
    assert staff["gis_staff"] and staff["planner"] and staff["agency_staff"] and staff["administrator"]
    assert not staff["leader"] and not staff["field_officer"] and not staff["officer_thanhmy"]


def test_the_readme_role_table_says_who_has_admin_access():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|$", readme, flags=re.MULTILINE)
    table = {user: admin_text.strip() for user, admin_text in rows}
    assert set(roles.ROLES) <= set(table)
    for role in roles.ROLES:
        assert table[role].startswith("—") == (role not in roles.admin_roles()), role
    assert table["officer_thanhmy"] == "—"
    assert "catalog" in table["gis_staff"]


# --- commune scope in the admin ------------------------------------------------------------------------


@pytest.fixture
def scoped_gis(district) -> User:
    """GIS staff limited to Thạnh Mỹ (24931)."""
    return make_user("scoped_gis", roles.GIS_STAFF, communes=["24931"])


def school_form(code: str, name: str) -> dict[str, object]:
    return {"name": name, "level": "thcs", "ownership": "public", "pupils": 300, "teachers": 20, "classrooms": 10,
            "figures_year": 2024, "geom": f.point_in(code, 7).ewkt}  # fmt: skip


def test_a_scoped_user_lists_and_opens_only_his_communes_records(client, scoped_gis):
    mine = f.SchoolFactory(name="Trường Thạnh Mỹ", in_commune="24931")
    other = f.SchoolFactory(name="Trường Đạ Ròn", in_commune="24937")
    client.force_login(scoped_gis)
    page = client.get("/admin/layers/school/")
    assert [s.pk for s in page.context["cl"].result_list] == [mine.pk]
    communes = [
        choice["display"] for spec in page.context["cl"].filter_specs[:1] for choice in spec.choices(page.context["cl"])
    ]
    assert "Thị trấn Thạnh Mỹ" in communes and "Xã Đạ Ròn" not in communes
    assert client.get(reverse("admin:layers_school_change", args=[mine.pk])).status_code == 200
    # Another commune's record is as if it did not exist: the admin sends the user back to its index.
    assert client.get(reverse("admin:layers_school_change", args=[other.pk])).status_code == 302
    client.post(reverse("admin:layers_school_change", args=[other.pk]), school_form("24937", "Đổi tên"))
    client.post(reverse("admin:layers_school_delete", args=[other.pk]), {"post": "yes"})
    other.refresh_from_db()
    assert other.name == "Trường Đạ Ròn"


def test_a_scoped_user_cannot_put_a_record_in_another_commune(client, scoped_gis):
    client.force_login(scoped_gis)
    response = client.post(reverse("admin:layers_school_add"), school_form("24937", "Trường ngoài phạm vi"))
    assert response.status_code == 200
    assert "ngoài phạm vi địa bàn của bạn" in response.content.decode()
    assert not School.objects.exists()
    mine = client.post(reverse("admin:layers_school_add"), school_form("24931", "Trường trong phạm vi"))
    assert mine.status_code == 302 and School.objects.get().commune_code == "24931"
    # moving it out of scope is refused the same way
    school = School.objects.get()
    response = client.post(reverse("admin:layers_school_change", args=[school.pk]), school_form("24937", "Dời đi"))
    assert response.status_code == 200 and "ngoài phạm vi địa bàn của bạn" in response.content.decode()
    school.refresh_from_db()
    assert school.commune_code == "24931"


def test_a_scoped_agency_officer_cannot_file_a_dossier_for_another_commune(client, district):
    officer = make_user("scoped_agency", roles.AGENCY_STAFF, communes=["24931"])
    client.force_login(officer)
    other = f.current_commune("24937")
    response = client.post(
        reverse("admin:layers_dossier_add"),
        {"procedure_code": "1.0001", "procedure_name": "Chứng thực", "field": "tư pháp", "commune": other.pk,
         "received_date": "2024-03-01", "due_date": "2024-03-05", "status": "received"},
    )  # fmt: skip
    assert response.status_code == 200 and "ngoài phạm vi địa bàn của bạn" in response.content.decode()
    assert not Dossier.objects.exists()
