"""Token authentication for the feature APIs with the permission data fetched in the same query."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from gis_ioc import permissions
from gis_ioc.models import UserScope


@cache
def _token_sql() -> str:
    """One statement for token, user, commune scope and role names, written once per process from the
    models' metadata. Plain SQL rather than a queryset: compiling the select_related + ArraySubquery
    queryset cost ~1 ms of Python per request, three times the query itself."""
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()

    def columns(model: Any, alias: str) -> str:
        return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields)

    q = connection.ops.quote_name
    return (
        f"SELECT {columns(Token, 't')}, {columns(user_model, 'u')}, {columns(UserScope, 's')}, "  # noqa: S608
        f"ARRAY(SELECT g.name FROM auth_group g JOIN {q(user_model.groups.through._meta.db_table)} ug "
        "ON ug.group_id = g.id WHERE ug.user_id = u.id) "
        f"FROM {q(Token._meta.db_table)} t JOIN {q(user_model._meta.db_table)} u ON u.id = t.user_id "
        f"LEFT JOIN {q(UserScope._meta.db_table)} s ON s.user_id = u.id WHERE t.key = %s"
    )


def _instance(model: Any, row: list[Any]) -> Any:
    """A model instance from its concrete columns in declaration order (what Model.from_db expects)."""
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], row)


class FastTokenAuthentication(TokenAuthentication):
    """DRF's token check (same errors), with the user's commune scope and role names fetched in the same
    query: one round trip and no ORM compilation on every request of a desktop client. Every request
    reads the token row, so a deleted token or a deactivated user is refused on the next request."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model = self.get_model()
        user_model = get_user_model()
        with connection.cursor() as cursor:
            cursor.execute(_token_sql(), [key])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("Invalid token."))
        n_token, n_user = len(model._meta.concrete_fields), len(user_model._meta.concrete_fields)
        n_scope = len(UserScope._meta.concrete_fields)
        row = list(row)
        token = _instance(model, row[:n_token])
        user = _instance(user_model, row[n_token : n_token + n_user])
        scope_row = row[n_token + n_user : n_token + n_user + n_scope]
        scope = _instance(UserScope, scope_row) if scope_row[0] is not None else None
        # As select_related("user", "user__scope") would: user.scope is cached (None: no scope row).
        user_model._meta.get_field("scope").set_cached_value(user, scope)
        if scope is not None:
            UserScope._meta.get_field("user").set_cached_value(scope, user)
        token.user = user
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        # Fill the cache permissions.role_names reads, by the permission module's own rule.
        permissions.remember_roles(user, row[-1])
        return user, token
