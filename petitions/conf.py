"""Petition settings: read from Django settings (PETITIONS_*) with environment-driven defaults.

Kept here, not in gis_ioc/settings.py, so the petitions app owns its knobs; each value can be overridden
in settings or by environment variable, and a bad value stops the platform at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from gis_ioc.lib.env import env_int, env_list

# Days to resolve, per category (Luật Tiếp công dân practice: 10-30 days; land matters take longest).
DEFAULT_DEADLINE_DAYS = {
    "dat_dai": 30,
    "moi_truong": 15,
    "trat_tu_xay_dung": 15,
    "giao_thong_ha_tang": 15,
    "an_ninh_trat_tu": 7,
    "y_te": 10,
    "giao_duc": 10,
    "dien_nuoc": 7,
    "thu_tuc_hanh_chinh": 10,
    "khac": 15,
}


@dataclass(frozen=True)
class PetitionSettings:
    default_deadline_days: int = 15
    deadline_days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS))
    # Field reports: warn above warn_accuracy_m, refuse above max_accuracy_m (metres, GPS 68 % radius).
    warn_accuracy_m: float = 30.0
    max_accuracy_m: float = 100.0
    # Photos: per file and per request caps; pixels guard against decompression bombs.
    max_photo_bytes: int = 10 * 1024 * 1024
    max_photos: int = 5
    max_request_bytes: int = 30 * 1024 * 1024
    max_json_bytes: int = 64 * 1024
    max_pixels: int = 40_000_000
    thumbnail_px: int = 320
    public_px: int = 1600
    # Public endpoints: submissions and reads per client IP per minute.
    submit_per_minute: int = 5
    read_per_minute: int = 120
    # Open311: an empty list means POST needs no api_key.
    open311_api_keys: tuple[str, ...] = ()
    duplicate_radius_m: float = 100.0
    duplicate_days: int = 14


def conf() -> PetitionSettings:
    """Current settings (read each call, so override_settings in tests takes effect)."""
    overrides = getattr(settings, "PETITIONS", {}) or {}
    env = PetitionSettings(
        warn_accuracy_m=float(env_int("PETITIONS_WARN_ACCURACY_M", 30, minimum=1)),
        max_accuracy_m=float(env_int("PETITIONS_MAX_ACCURACY_M", 100, minimum=1)),
        max_photo_bytes=env_int("PETITIONS_MAX_PHOTO_BYTES", 10 * 1024 * 1024, minimum=1024),
        submit_per_minute=env_int("PETITIONS_SUBMIT_PER_MINUTE", 5, minimum=1),
        read_per_minute=env_int("PETITIONS_READ_PER_MINUTE", 120, minimum=1),
        open311_api_keys=tuple(env_list("OPEN311_API_KEYS", [])),
    )
    if not overrides:
        return env
    unknown = set(overrides) - set(env.__dict__)
    if unknown:
        raise ImproperlyConfigured(f"Unknown PETITIONS setting(s): {', '.join(sorted(unknown))}")
    values = {**env.__dict__, **overrides}
    if "open311_api_keys" in overrides:
        values["open311_api_keys"] = tuple(overrides["open311_api_keys"])
    return PetitionSettings(**values)
