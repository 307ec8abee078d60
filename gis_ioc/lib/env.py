"""Typed readers for settings taken from environment variables.

Each helper fails loudly with ImproperlyConfigured naming the variable, so a typo in a deployment
stops the platform at start-up instead of surfacing as odd behaviour later.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable as text, or the default."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable as a boolean; refuse anything that is not a clear yes or no."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return the variable as an integer within optional bounds."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list of IP addresses or CIDR networks (e.g. 10.0.0.0/8), each checked."""
    items = env_list(name, default)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network; example: 127.0.0.1,10.0.0.0/8"
            ) from exc
    return items


def env_path(name: str, default: Path, *, outside: Iterable[Path] = ()) -> Path:
    """Return the variable as an absolute folder, refusing one inside any of `outside` (served folders)."""
    raw = os.environ.get(name)
    return private_path(name, Path(raw) if raw and raw.strip() else Path(default), outside)


def private_path(name: str, path: Path, outside: Iterable[Path]) -> Path:
    """The path itself if it is absolute and shares nothing with the `outside` folders; names `name` if not."""
    if not path.is_absolute():
        raise ImproperlyConfigured(f"{name}={str(path)!r} must be an absolute path.")
    resolved = path.resolve()
    for served in outside:
        served_path = Path(served).resolve()
        if resolved.is_relative_to(served_path) or served_path.is_relative_to(resolved):
            # Anything under a folder that a URL serves would be readable by anyone who guesses its name.
            raise ImproperlyConfigured(
                f"{name}={str(path)!r} overlaps the served folder {str(served)!r}: private files must live "
                "outside every folder a URL serves."
            )
    return path


def parse_database_url(url: str, *, setting: str = "DATABASE_URL") -> dict[str, object]:
    """Turn postgres://user:pass@host:port/name?options into a Django DATABASES entry (PostGIS engine)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "postgis"}:
        raise ImproperlyConfigured(
            f"{setting} must start with postgresql:// (got scheme {parsed.scheme or 'none'!r}); "
            "example: postgresql://user:password@127.0.0.1:5432/gis_ioc"
        )
    name = unquote(parsed.path.lstrip("/"))
    if not name or "/" in name:
        raise ImproperlyConfigured(f"{setting} must name one database after the host, e.g. .../gis_ioc")
    try:
        port = parsed.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting} has an invalid port: {exc}") from exc
    if not parsed.hostname:
        raise ImproperlyConfigured(f"{setting} must name a host, e.g. postgresql://user:pw@127.0.0.1:5432/db")
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": name,
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname,
        "PORT": str(port or 5432),
    }


def local_database_url(base_dir: Path) -> str | None:
    """The URL of the project's own cluster written by scripts/ioc-db, if it was started."""
    path = base_dir / ".ioc" / "database_url"
    if path.exists():
        return path.read_text().strip()
    return None
