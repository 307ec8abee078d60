"""Loading a signed-in user together with what every permission check reads: the commune scope and the
role (group) names, in one statement — for the session backend here and the API token check
(layers/api/auth.py), so a staff request costs one query for the user instead of three."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from gis_ioc import permissions
from gis_ioc.models import UserScope


def _columns(model: Any, alias: str) -> str:
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields)


@cache
def user_columns_sql() -> str:
    """The select list `<user columns>, <scope columns>, <role names>` over `u` (the user table) and `s` (the
    scope, joined with `scope_join_sql()`). Plain SQL written once per process from the models' metadata:
    compiling the equivalent select_related + ArraySubquery queryset cost ~1 ms of Python per request."""
    user_model = get_user_model()
    groups = connection.ops.quote_name(user_model.groups.through._meta.db_table)
    return (
        f"{_columns(user_model, 'u')}, {_columns(UserScope, 's')}, "  # noqa: S608 - names from model metadata
        f"ARRAY(SELECT g.name FROM auth_group g JOIN {groups} ug ON ug.group_id = g.id WHERE ug.user_id = u.id)"
    )


def user_table_sql() -> str:
    return connection.ops.quote_name(get_user_model()._meta.db_table)


def scope_join_sql() -> str:
    return f"LEFT JOIN {connection.ops.quote_name(UserScope._meta.db_table)} s ON s.user_id = u.id"


def instance(model: Any, row: list[Any]) -> Any:
    """A model instance from its concrete columns in declaration order (what Model.from_db expects)."""
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], row)


def user_from_row(row: list[Any]) -> Any:
    """The user of a `user_columns_sql` row (the row may start with other columns: pass the rest), with its
    scope cached as `select_related("scope")` would and its roles cached for gis_ioc.permissions."""
    user_model = get_user_model()
    n_user, n_scope = len(user_model._meta.concrete_fields), len(UserScope._meta.concrete_fields)
    user = instance(user_model, row[:n_user])
    scope_row = row[n_user : n_user + n_scope]
    scope = instance(UserScope, scope_row) if scope_row[0] is not None else None
    user_model._meta.get_field("scope").set_cached_value(user, scope)  # None: no scope row, whole district
    if scope is not None:
        UserScope._meta.get_field("user").set_cached_value(scope, user)
    permissions.remember_roles(user, row[n_user + n_scope])
    return user


class ScopedModelBackend(ModelBackend):
    """Django's model backend; the user of a session comes with scope and roles in the same query."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        # cast: the stubs allow a None column (virtual fields); a primary key always has one.
        pk = connection.ops.quote_name(cast(str, user_model._meta.pk.column))
        try:
            user_id = user_model._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a malformed id in a session is "no user", as in ModelBackend
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {user_columns_sql()} FROM {user_table_sql()} u {scope_join_sql()} WHERE u.{pk} = %s",  # noqa: S608
                [user_id],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        user = user_from_row(list(row))
        return user if self.user_can_authenticate(user) else None
