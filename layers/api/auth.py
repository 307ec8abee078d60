"""Token authentication for the feature APIs with the permission data fetched in the same query."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from gis_ioc.accounts import instance, scope_join_sql, user_columns_sql, user_from_row, user_table_sql


@cache
def _token_sql() -> str:
    """One statement for token, user, commune scope and role names (gis_ioc.accounts writes the user part)."""
    from rest_framework.authtoken.models import Token

    q = connection.ops.quote_name
    columns = ", ".join(f"t.{q(f.column)}" for f in Token._meta.concrete_fields)
    return (
        f"SELECT {columns}, {user_columns_sql()} FROM {q(Token._meta.db_table)} t "  # noqa: S608
        f"JOIN {user_table_sql()} u ON u.id = t.user_id {scope_join_sql()} WHERE t.key = %s"
    )


class FastTokenAuthentication(TokenAuthentication):
    """DRF's token check (same errors), with the user's commune scope and role names fetched in the same
    query: one round trip and no ORM compilation on every request of a desktop client. Every request
    reads the token row, so a deleted token or a deactivated user is refused on the next request."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model = self.get_model()
        with connection.cursor() as cursor:
            cursor.execute(_token_sql(), [key])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("Invalid token."))
        n_token = len(model._meta.concrete_fields)
        row = list(row)
        token = instance(model, row[:n_token])
        user = user_from_row(row[n_token:])  # with scope and roles cached for gis_ioc.permissions
        token.user = user
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return user, token
