"""A signed-in user is loaded with the commune scope and role names that every permission check reads."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gis_ioc import permissions, roles
from gis_ioc.accounts import ScopedModelBackend
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_the_session_user_comes_with_scope_and_roles_in_one_query():
    officer = make_user("officer_x", roles.FIELD_OFFICER, communes=["24931", "24937"])
    with CaptureQueriesContext(connection) as queries:
        user = ScopedModelBackend().get_user(officer.pk)
        held = permissions.role_names(user)
        scope = permissions.commune_scope(user)
    assert len(queries.captured_queries) == 1
    assert held == {roles.FIELD_OFFICER}
    assert scope == {"24931", "24937"}


def test_no_scope_row_means_the_whole_district_and_superusers_are_administrators():
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root_x", "root@example.org", "pw-root-x-123")
    user = ScopedModelBackend().get_user(root.pk)
    assert roles.ADMINISTRATOR in permissions.role_names(user)
    assert permissions.commune_scope(user) is None


def test_an_unknown_inactive_or_malformed_id_is_no_user():
    gone = make_user("gone_x", roles.LEADER)
    gone.is_active = False
    gone.save()
    backend = ScopedModelBackend()
    assert backend.get_user(gone.pk) is None
    assert backend.get_user(10**9) is None
    assert backend.get_user("abc") is None


def test_a_signed_in_staff_member_sees_their_roles_and_a_role_change_on_the_next_request(client, district):
    """End to end through the session: the import page is for GIS staff; then the role is withdrawn."""
    from django.contrib.auth.models import Group

    staff = make_user("gis_x", roles.GIS_STAFF)
    client.force_login(staff)
    assert client.get("/imports/").status_code == 200
    staff.groups.remove(Group.objects.get(name=roles.GIS_STAFF))
    assert client.get("/imports/").status_code == 403
