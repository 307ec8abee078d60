"""Signing in, for every channel: a session, or an API token (`Authorization: Token <key>`, or HTTP Basic
with the user name and a token as password — the scheme every QGIS version has). `SignInMiddleware`
(gis_ioc/middleware.py) calls `sign_in` for each request that carries an Authorization header, and DRF's
`layers.api.auth.SignInAuthentication` reads its decision, so there is one sign-in.

The signed-in user is loaded together with what every permission check reads, the commune scope and the
role (group) names, in one statement: for the session backend and for the token (where the same statement
also reads the token), so a staff request costs one query for the user instead of three. A token's last use
is written at most once a minute, not on every tile."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gis_ioc import permissions
from gis_ioc.models import ApiToken, UserScope


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
        pk = connection.ops.quote_name(str(user_model._meta.pk.column))
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


# --- API tokens: the one sign-in of scripts and desktop GIS ------------------------------------------------
# A token's last use is written at most this often (seconds): a QGIS map draws dozens of tiles a second.
LAST_USE_EVERY = 60
REALM = "gis_ioc"
# Both schemes a client may answer with. Sent with the 401 of bad credentials only: a browser that sees a
# Basic challenge opens its own login box, which a page's expired-session request must not do.
CHALLENGE = f'Token realm="{REALM}", Basic realm="{REALM}", charset="UTF-8"'
TOKEN_CHALLENGE = f'Token realm="{REALM}"'


class SignInFailed(Exception):
    """Credentials were sent and are wrong: the request is refused (401), never served as anonymous."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SignedIn:
    user: Any
    token: ApiToken
    scheme: str  # "token" or "basic"


@cache
def token_sql() -> str:
    """One statement for the active token of a digest, its user, commune scope and role names."""
    q = connection.ops.quote_name
    return (
        f"SELECT {_columns(ApiToken, 't')}, {user_columns_sql()} FROM {q(ApiToken._meta.db_table)} t "  # noqa: S608
        f"JOIN {user_table_sql()} u ON u.id = t.user_id {scope_join_sql()} "
        "WHERE t.digest = %s AND t.revoked_at IS NULL"
    )


@cache
def last_use_sql() -> str:
    """Records a token's use unless another request did within LAST_USE_EVERY (the guard makes the
    requests of a busy client that raced past the Python check no-ops)."""
    table = connection.ops.quote_name(ApiToken._meta.db_table)
    return (
        f"UPDATE {table} SET last_used_at = now() WHERE id = %s "  # noqa: S608
        f"AND (last_used_at IS NULL OR last_used_at < now() - interval '{LAST_USE_EVERY} seconds')"
    )


def user_of_key(key: str) -> tuple[Any, ApiToken] | None:
    """The user (with scope and roles) and the active token of a key, or None: one statement, and a second
    one at most once a minute per token to record its last use. Measured on the test database, writing the
    time from a data-modifying CTE in the same statement cost every token request ~0.1-0.15 ms of planning,
    more than one small UPDATE a minute."""
    with connection.cursor() as cursor:
        cursor.execute(token_sql(), [ApiToken.digest_of(key)])
        row = cursor.fetchone()
        if row is None:
            return None
        n_token = len(ApiToken._meta.concrete_fields)
        token = instance(ApiToken, list(row[:n_token]))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= dt.timedelta(seconds=LAST_USE_EVERY):
            cursor.execute(last_use_sql(), [token.pk])
            token.last_used_at = now
    user = user_from_row(list(row[n_token:]))
    ApiToken._meta.get_field("user").set_cached_value(token, user)
    return user, token


def _credentials(header: str) -> tuple[str, str, str | None] | None:
    """(scheme, key, user name for Basic) of an Authorization header; None for a scheme not ours (left to
    whatever else reads it); SignInFailed when it is ours but unreadable."""
    scheme, _sep, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("token", "bearer"):
        if not value or " " in value:
            raise SignInFailed(_("Tiêu đề Authorization sai dạng: cần “Token <khóa API>”."))
        return "token", value, None
    if scheme == "basic" and settings.IOC_API_BASIC_AUTH:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise SignInFailed(
                _("Tiêu đề Authorization sai dạng: Basic cần “tên đăng nhập:khóa API” mã hóa base64.")
            ) from None
        username, sep, key = decoded.partition(":")
        if not sep or not username or not key:
            raise SignInFailed(_("Tiêu đề Authorization sai dạng: Basic cần “tên đăng nhập:khóa API” mã hóa base64."))
        return "basic", key, username
    return None


def sign_in(header: str) -> SignedIn | None:
    """Who an Authorization header signs in: None when it carries no credentials of ours, SignInFailed when
    they are wrong (unknown or revoked token, a Basic user name that is not the token's owner, a
    deactivated account). Every call reads the token row: a revoked token or a deactivated user is refused
    on the next request."""
    found = _credentials(header)
    if found is None:
        return None
    scheme, key, username = found
    result = user_of_key(key)
    if result is None or (username is not None and result[0].get_username() != username):
        if scheme == "basic":
            raise SignInFailed(
                _("Tên đăng nhập hoặc khóa API không đúng (mật khẩu là khóa API, không phải mật khẩu đăng nhập).")
            )
        raise SignInFailed(_("Khóa API không đúng hoặc đã bị thu hồi."))
    user, token = result
    if not user.is_active:
        raise SignInFailed(_("Tài khoản của khóa API này đã bị khóa."))
    return SignedIn(user, token, scheme)


def unauthorized(message: str) -> JsonResponse:
    """The 401 of every channel for wrong credentials: one body that reads as DRF's (`detail`) and as an
    OGC API exception (`code`, `description`), with both challenges."""
    response = JsonResponse(
        {"code": "Unauthorized", "description": message, "detail": message},
        status=401,
        json_dumps_params={"ensure_ascii": False},
    )
    response["WWW-Authenticate"] = CHALLENGE
    response["Cache-Control"] = "no-store"
    return response
