"""Administrative units with validity periods, the unit sets they form and the crosswalks between sets,
user scope and API tokens.

A boundary reform is data, not code: each `AdminUnit` row is one version of a unit (GSO code + period),
a `UnitSet` is the set of units in force together (e.g. "communes 2009–2024", "communes 2025-01") or a
named statistical grouping (the former Đơn Dương district), and a `Crosswalk` says how each unit of one set
became units of the next (whole merges, splits with area and population shares, the legal basis).
Statistics move figures between sets through crosswalks (gis_ioc/unit_sets.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateRangeField, RangeOperators
from django.db.models import Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gis_ioc.lib.text import ascii_name, nfc


class DateRangeFunc(Func):
    """daterange(valid_from, valid_to, '[)') for the exclusion constraint below."""

    function = "daterange"
    output_field = DateRangeField()


class Level(models.TextChoices):
    PROVINCE = "province", _("Tỉnh/Thành phố")
    DISTRICT = "district", _("Quận/Huyện")
    COMMUNE = "commune", _("Xã/Phường/Thị trấn")
    # A named grouping kept for statistics after it stopped being an administrative unit (the districts
    # abolished on 2025-07-01) or never was one.
    AREA = "area", _("Vùng thống kê")


class UnitType(models.TextChoices):
    TINH = "tinh", _("Tỉnh")
    THANH_PHO = "thanh_pho", _("Thành phố")
    HUYEN = "huyen", _("Huyện")
    THI_TRAN = "thi_tran", _("Thị trấn")
    XA = "xa", _("Xã")
    PHUONG = "phuong", _("Phường")


class AdminUnitQuerySet(models.QuerySet["AdminUnit"]):
    def current(self, on: dt.date | None = None) -> AdminUnitQuerySet:
        """Units valid on the given day (today by default)."""
        day = on or dt.date.today()
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gt=day))

    def communes(self) -> AdminUnitQuerySet:
        return self.filter(level=Level.COMMUNE)

    def containing(self, point: GEOSGeometry) -> AdminUnitQuerySet:
        """Units whose boundary covers the point (uses the GiST index)."""
        return self.filter(geom__covers=point)


class AdminUnit(models.Model):
    """One administrative unit in one validity period; a boundary change closes it and opens a new row."""

    code = models.CharField(_("mã GSO"), max_length=10, db_index=True)
    name = models.CharField(_("tên"), max_length=200)
    name_ascii = models.CharField(_("tên không dấu"), max_length=200, db_index=True)
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    unit_type = models.CharField(_("loại đơn vị"), max_length=12, choices=UnitType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("đơn vị cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    geom = models.MultiPolygonField(_("ranh giới"), srid=4326, spatial_index=True)
    area_km2 = models.FloatField(_("diện tích (km²)"), help_text=_("Diện tích trắc địa trên ellipsoid WGS84"))
    valid_from = models.DateField(_("hiệu lực từ"), default=dt.date(2009, 1, 1))
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    is_demo = models.BooleanField(_("dữ liệu mẫu"), default=False)
    source = models.CharField(_("nguồn"), max_length=300, blank=True)

    objects = AdminUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = pgettext_lazy("plural", "đơn vị hành chính")  # Vietnamese has no plural; English does
        ordering = ["level", "code", "valid_from"]
        constraints = [
            # The same GSO code may be reused across periods, never twice in overlapping periods.
            ExclusionConstraint(
                name="adminunit_code_period_excl",
                expressions=[
                    ("code", RangeOperators.EQUAL),
                    (DateRangeFunc("valid_from", "valid_to", models.Value("[)")), RangeOperators.OVERLAPS),
                ],
            ),
            models.CheckConstraint(
                name="adminunit_valid_range",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
            ),
            models.CheckConstraint(name="adminunit_area_nonneg", condition=Q(area_km2__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.name = nfc(self.name)
        self.name_ascii = ascii_name(self.name_ascii or self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def population(self, year: int | None = None) -> int | None:
        """The population in the given year, or the latest known."""
        rows = self.populations.order_by("-year")
        if year is not None:
            rows = rows.filter(year__lte=year)
        row = rows.first()
        return row.population if row else None


class UnitSetKind(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Đơn vị hành chính")
    STATISTICAL = "statistical", _("Vùng thống kê")


class UnitSetQuerySet(models.QuerySet["UnitSet"]):
    def valid_on(self, day: dt.date) -> UnitSetQuerySet:
        """Sets in force on the day (a statistical set without a period is always in force)."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gt=day)
        )

    def administrative(self) -> UnitSetQuerySet:
        return self.filter(kind=UnitSetKind.ADMINISTRATIVE)


class UnitSet(models.Model):
    """Units in force together at one level over one period, or a named statistical grouping.

    A unit that a reform left alone is one `AdminUnit` row and a member of every set it lived through.
    Administrative sets of one level never overlap in time (the exclusion constraint), so "the communes
    valid on a date" is one set; a statistical set has no period and is asked for by name.
    """

    slug = models.SlugField(_("mã bộ đơn vị"), max_length=60, unique=True)
    name = models.CharField(_("tên"), max_length=200)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=200, blank=True)
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("loại"), max_length=16, choices=UnitSetKind.choices, default=UnitSetKind.ADMINISTRATIVE)
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=300, blank=True)
    description = models.TextField(_("mô tả"), blank=True)
    members = models.ManyToManyField(AdminUnit, verbose_name=_("đơn vị"), related_name="unit_sets", blank=True)

    objects = UnitSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("bộ đơn vị hành chính")
        verbose_name_plural = pgettext_lazy("plural", "bộ đơn vị hành chính")  # Vietnamese has no plural; English does
        ordering = ["level", "valid_from", "slug"]
        constraints = [
            ExclusionConstraint(
                name="unitset_level_period_excl",
                expressions=[
                    ("level", RangeOperators.EQUAL),
                    (DateRangeFunc("valid_from", "valid_to", models.Value("[)")), RangeOperators.OVERLAPS),
                ],
                condition=Q(kind="administrative"),
            ),
            models.CheckConstraint(
                name="unitset_valid_range",
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
            ),
            models.CheckConstraint(
                name="unitset_administrative_dated",
                condition=Q(kind="statistical") | Q(valid_from__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def title(self, language: str | None = None) -> str:
        """The name in the given language (Vietnamese unless "en" and an English name exists)."""
        return self.name_en if (language or "").startswith("en") and self.name_en else self.name

    @property
    def period(self) -> str:
        """The period as text: "2009-01-01 – 2025-01-01", "2025-01-01 –", or "" for a statistical set."""
        if self.valid_from is None:
            return ""
        end = f"{self.valid_to:%Y-%m-%d}" if self.valid_to else ""
        return f"{self.valid_from:%Y-%m-%d} – {end}".rstrip()


class Crosswalk(models.Model):
    """How the units of one set became the units of the next, on one date, by one decision."""

    from_set = models.ForeignKey(
        UnitSet, verbose_name=_("bộ đơn vị cũ"), on_delete=models.PROTECT, related_name="crosswalks_out"
    )
    to_set = models.OneToOneField(
        UnitSet, verbose_name=_("bộ đơn vị mới"), on_delete=models.PROTECT, related_name="crosswalk_in"
    )
    effective_date = models.DateField(_("ngày hiệu lực"))
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=300, blank=True)
    source = models.CharField(_("nguồn"), max_length=300, blank=True)
    imported_at = models.DateTimeField(_("nhập lúc"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người nhập"), null=True, blank=True, on_delete=models.SET_NULL
    )
    # The job that files the records of the changed units under the units valid on their dates
    # (layers.refile): queued with the crosswalk, its progress and per-table report shown in the admin/API.
    refile_status = models.CharField(_("xếp lại bản ghi"), max_length=10, default="queued")
    refile_percent = models.PositiveSmallIntegerField(_("tiến độ (%)"), default=0)
    refile_report = models.JSONField(_("kết quả xếp lại"), default=dict, blank=True)

    class Meta:
        verbose_name = _("bảng chuyển đổi đơn vị")
        verbose_name_plural = pgettext_lazy(
            "plural", "bảng chuyển đổi đơn vị"
        )  # Vietnamese has no plural; English does
        ordering = ["effective_date", "id"]

    def __str__(self) -> str:
        return f"{self.from_set} → {self.to_set} ({self.effective_date:%Y-%m-%d})"


class CrosswalkRow(models.Model):
    """One old unit → one new unit, with the share of the old unit's area and population that went there.

    A unit a reform left alone has a row to itself (share 1), so every unit of the old set is covered."""

    crosswalk = models.ForeignKey(Crosswalk, on_delete=models.CASCADE, related_name="rows")
    old_unit = models.ForeignKey(
        AdminUnit, verbose_name=_("đơn vị cũ"), on_delete=models.PROTECT, related_name="crosswalk_from"
    )
    new_unit = models.ForeignKey(
        AdminUnit, verbose_name=_("đơn vị mới"), on_delete=models.PROTECT, related_name="crosswalk_to"
    )
    area_share = models.FloatField(_("tỷ lệ diện tích"), default=1.0)
    population_share = models.FloatField(_("tỷ lệ dân số"), default=1.0)
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=300, blank=True)
    row = models.PositiveIntegerField(_("dòng trong tệp"), default=0)

    class Meta:
        verbose_name = _("dòng chuyển đổi")
        verbose_name_plural = pgettext_lazy("plural", "dòng chuyển đổi")  # Vietnamese has no plural; English does
        ordering = ["crosswalk", "row", "id"]
        constraints = [
            models.UniqueConstraint(fields=["crosswalk", "old_unit", "new_unit"], name="crosswalkrow_pair_uniq"),
            models.CheckConstraint(
                name="crosswalkrow_shares",
                condition=Q(area_share__gt=0, area_share__lte=1, population_share__gte=0, population_share__lte=1),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.old_unit.code} → {self.new_unit.code}"


class AdminUnitPopulation(models.Model):
    unit = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="populations")
    year = models.PositiveSmallIntegerField(_("năm"))
    population = models.PositiveIntegerField(_("dân số"))

    class Meta:
        verbose_name = _("dân số theo năm")
        verbose_name_plural = pgettext_lazy("plural", "dân số theo năm")  # Vietnamese has no plural; English does
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="population_unit_year_uniq")]
        ordering = ["unit", "year"]


class UserScope(models.Model):
    """Limits a user to some communes (by GSO code, stable across boundary versions). No row: no limit."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scope")
    commune_codes = ArrayField(models.CharField(max_length=10), default=list, blank=True)

    class Meta:
        verbose_name = _("phạm vi địa bàn")
        verbose_name_plural = pgettext_lazy("plural", "phạm vi địa bàn")  # Vietnamese has no plural; English does

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.commune_codes) or '—'}"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        """Tokens that still open the platform (not revoked)."""
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A named key that a person's scripts and desktop GIS sign in with: `Authorization: Token <key>`, or
    HTTP Basic with the user name and the key as password (gis_ioc.accounts). A person may hold several
    (one per machine or notebook) and revoke each alone.

    Only the SHA-256 of the key is stored, so a database dump or backup holds no working credential and the
    key is shown once, when it is issued. A plain digest (no salt, no slow hash) is enough because the key
    is 256 random bits, not a password a person chose: nothing can be guessed from the digest, and the
    lookup stays one indexed equality on every request."""

    PREFIX = "ioc_"  # recognisable in a config file, and by secret scanners
    NAME_MAX = 100

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("người dùng"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("tên"), max_length=NAME_MAX)
    digest = models.CharField(_("mã băm của khóa"), max_length=64, unique=True, editable=False)
    hint = models.CharField(_("đầu khóa"), max_length=12, editable=False)  # tells a person's tokens apart
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now, editable=False)
    # Written at most once a minute per token (gis_ioc.accounts), not on every tile.
    last_used_at = models.DateTimeField(_("dùng lần cuối"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    key: str  # the plain key, on the object issue() returns only

    class Meta:
        verbose_name = _("khóa API")
        verbose_name_plural = pgettext_lazy("plural", "khóa API")  # Vietnamese has no plural; English does
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.name} ({self.hint}…)"

    @staticmethod
    def digest_of(key: str) -> str:
        """The stored form of a key."""
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: Any, name: str) -> ApiToken:
        """A new token for the user; its key is on `.key` of the returned object only, never stored."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=nfc(name.strip()), digest=cls.digest_of(key), hint=key[:8])
        token.key = key
        return token

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        """Refused from the next request on; the row stays so its owner sees when it was revoked."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
