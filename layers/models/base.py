"""What every sector feature shares: its commune (assigned spatially), demo flag and timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self, TypeVar

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis_ioc.models import AdminUnit
from layers.validation import check_geometry

# GeoDjango's field geom_type -> the GEOS geometry type stored in the column.
_GEOM_TYPES = {"POINT": "Point", "MULTIPOLYGON": "MultiPolygon", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint"}


def geometry_field(model: type[models.Model], name: str) -> models.GeometryField:
    """The geometry field `name` of `model`; TypeError when it is another kind of field (a code bug)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.GeometryField):
        raise TypeError(f"{model.__name__}.{name} is not a geometry field")
    return field


_F = TypeVar("_F", bound="SectorFeature")


class CommuneQuerySet(models.QuerySet[_F]):
    def in_communes(self, codes: list[str] | set[str]) -> Self:
        """Rows of the given communes (GSO codes)."""
        return self.filter(commune_code__in=list(codes))


class SectorFeature(models.Model):
    """Abstract base: a record of a district sector, tied to a commune by GSO code."""

    commune = models.ForeignKey(
        AdminUnit,
        verbose_name=_("xã/thị trấn"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The GSO code survives boundary versions, so scope checks and statistics key on it.
    commune_code = models.CharField(_("mã xã"), max_length=10, blank=True, db_index=True)
    is_demo = models.BooleanField(_("dữ liệu mẫu"), default=False)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    objects = CommuneQuerySet.as_manager()

    # Name of the geometry field used to find the commune; None for tabular records.
    locate_by: str | None = "geom"
    # The field whose value dates the record, and so picks the unit it is filed under (the commune valid
    # that day: a petition of 2024 in Pró's area belongs to Pró even after Pró merged away). None: the
    # record has no date of its own (a school, a parcel) and belongs to today's unit.
    dated_by: str | None = None
    # The commune_code the row holds in the database, set on load and save (see _do_update; the admin's scope
    # check reads it too). Only annotated: an instance that never met the database has none.
    _stored_commune_code: str | None

    class Meta:
        abstract = True

    def drawn_geometry(self) -> Any:
        """What the map draws for this record: its own geometry, or its commune's for tabular records
        (dossiers, revenue, indicators). Writers pass it to `Layer.objects.record_change`."""
        if self.locate_by:
            return getattr(self, self.locate_by)
        commune = getattr(self, "commune", None)
        return commune.geom if commune is not None else None

    def record_date(self) -> dt.date:
        """The day that picks this record's unit: its own date (local day of a timestamp, the last day of
        a year), today when it has none."""
        value = getattr(self, self.dated_by) if self.dated_by else None
        if value is None:
            return timezone.localdate()
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if isinstance(value, int):
            return dt.date(value, 12, 31)
        return value

    def _unit_valid_on(self, unit: AdminUnit | None, day: dt.date) -> bool:
        return unit is not None and unit.valid_from <= day and (unit.valid_to is None or unit.valid_to > day)

    def assign_commune(self) -> None:
        """Set commune from the geometry (the unit valid on the record's date covering its point on surface).

        Raises ValidationError when the feature lies outside every commune: a silent misassignment would
        corrupt every statistic built on it.
        """
        if self.locate_by is None:
            # commune_code first: a record that has its code does not fetch its commune.
            if not self.commune_code and self.commune is not None:
                self.commune_code = self.commune.code
            return
        geom = getattr(self, self.locate_by)
        if geom is None:
            return
        point = geom if geom.geom_type == "Point" else geom.point_on_surface
        day = self.record_date()
        unit = AdminUnit.objects.current(day).communes().containing(point).order_by("area_km2").first()
        if unit is None:
            raise ValidationError(
                {
                    self.locate_by: _("Vị trí (%(x).5f, %(y).5f) nằm ngoài mọi xã của huyện.")
                    % {"x": point.x, "y": point.y}
                }
            )
        self.commune = unit
        self.commune_code = unit.code

    def clean(self) -> None:
        """Check the geometry (type, validity) and assign the commune; a tabular record needs its commune."""
        super().clean()
        if self.locate_by is None:
            day = self.record_date()
            chosen = self.commune if self.commune_id is not None else None
            if chosen is not None and not self._unit_valid_on(chosen, day):
                # A commune chosen by name or id, but another version of its code was valid on the record's
                # date (or its date changed): file it under the version of that day.
                self.commune_code = chosen.code
                self.commune = None
            if self.commune_id is None and self.commune_code:
                # Imports and API writes often carry only the GSO code: the version valid on the record's date.
                self.commune = self.unit_for_code(self.commune_code, day)
            if self.commune is None:
                raise ValidationError({"commune": _("Chọn xã/thị trấn của bản ghi.")})
            self.commune_code = self.commune.code
            return
        geom = getattr(self, self.locate_by)
        if geom is None:
            return  # clean_fields already reports the missing value
        expected = _GEOM_TYPES[geometry_field(type(self), self.locate_by).geom_type]
        setattr(self, self.locate_by, check_geometry(geom, expected, self.locate_by))
        self.assign_commune()

    def unit_for_code(self, code: str, day: dt.date) -> AdminUnit:
        """The version of a commune code valid on a day; ValidationError naming the code's validity if none."""
        versions = list(AdminUnit.objects.communes().filter(code=code).order_by("valid_from"))
        unit = next((u for u in versions if self._unit_valid_on(u, day)), None)
        if unit is not None:
            return unit
        if not versions:
            raise ValidationError({"commune_code": _("Không có xã/thị trấn mã %(code)s.") % {"code": code}})
        periods = "; ".join(f"{u.valid_from:%Y-%m-%d} – {u.valid_to or ''}".rstrip() for u in versions)
        raise ValidationError(
            {
                "commune_code": _("Mã xã %(code)s chỉ có hiệu lực %(periods)s; bản ghi ngày %(day)s.")
                % {"code": code, "periods": periods, "day": f"{day:%Y-%m-%d}"}
            }
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.locate_by and getattr(self, self.locate_by) is not None and not self.commune_id:
            self.assign_commune()
        elif not self.commune_code and self.commune is not None:
            self.commune_code = self.commune.code
        super().save(*args, **kwargs)
        self._stored_commune_code = self.commune_code

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Self:
        instance = super().from_db(db, field_names, values, **kwargs)
        # What the row holds, to tell an unchanged commune_code from a move (see _do_update).
        instance._stored_commune_code = instance.__dict__.get("commune_code")
        return instance

    def _do_update(self, base_qs: Any, using: Any, pk_val: Any, values: Any, *args: Any, **kwargs: Any) -> Any:
        # On Citus the sector tables are distributed by commune_code (gis_ioc/distributed.py), and Citus refuses
        # an UPDATE that assigns the distribution column unless it keeps the column's own value. Django writes
        # every field, so an unchanged commune_code goes out as `commune_code = commune_code`: the same no-op
        # on a single PostgreSQL. A real move to another commune is still sent (and refused by Citus).
        stored = getattr(self, "_stored_commune_code", None)
        if stored is not None:
            values = [
                (f, m, models.F(f.attname) if f.attname == "commune_code" and v == stored else v) for f, m, v in values
            ]
        return super()._do_update(base_qs, using, pk_val, values, *args, **kwargs)


def record_date_sql(model: type[SectorFeature], alias: str) -> str:
    """SQL of the day that picks a record's unit (see `SectorFeature.dated_by`), for a table alias: the
    local day of a timestamp, the last day of a year, CURRENT_DATE for a record with no date."""
    if model.dated_by is None:
        return "CURRENT_DATE"
    field = model._meta.get_field(model.dated_by)
    column = f"{alias}.{connection.ops.quote_name(str(getattr(field, 'column', model.dated_by)))}"
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return f"({column} AT TIME ZONE '{settings.TIME_ZONE}')::date"
    if kind in ("PositiveSmallIntegerField", "IntegerField", "SmallIntegerField", "PositiveIntegerField"):
        return f"make_date({column}::int, 12, 31)"
    return column


def assign_communes_in_bulk(model: type[SectorFeature], *, only_missing: bool = True) -> int:
    """Assign communes to many rows in one UPDATE (for demo loads and imports): the unit valid on each
    record's date covering it."""
    table = model._meta.db_table
    geom_col = model.locate_by
    if geom_col is None:
        return 0
    day = record_date_sql(model, "t")
    where = "AND t.commune_id IS NULL" if only_missing else ""
    sql = f"""
        UPDATE {table} t SET commune_id = u.id, commune_code = u.code
        FROM gis_ioc_adminunit u
        WHERE u.level = 'commune' AND u.valid_from <= {day} AND (u.valid_to IS NULL OR u.valid_to > {day})
          AND ST_Covers(u.geom, ST_PointOnSurface(t.{geom_col})) {where}
    """  # noqa: S608 - table and column names come from model metadata, not from input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


def refile_by_date(model: type[SectorFeature], *, unit_ids: list[int] | None = None) -> int:
    """Move the records whose unit was not valid on their date to the unit that was (one UPDATE):
    located records by their geometry, tabular ones to the version of the same code valid that day.

    Used after imports and by the re-assignment job of a crosswalk (`unit_ids`: only records filed under
    these units). Records that no unit covers on their date stay where they are. Returns rows moved."""
    with connection.cursor() as cursor:
        # Without a closed unit version no record can be filed under a unit not valid on its date: skip the
        # UPDATE (a full scan of a big table; on Citus a statement refused for touching commune_code).
        cursor.execute("SELECT EXISTS (SELECT 1 FROM gis_ioc_adminunit WHERE valid_to IS NOT NULL)")
        if not cursor.fetchone()[0]:
            return 0
    table = model._meta.db_table
    day = record_date_sql(model, "t")
    limit = "AND t.commune_id = ANY(%(ids)s)" if unit_ids is not None else ""
    if model.locate_by:
        target = (
            "u.level = 'commune' AND u.valid_from <= {day} AND (u.valid_to IS NULL OR u.valid_to > {day}) "
            f"AND ST_Covers(u.geom, ST_PointOnSurface(t.{model.locate_by}))"
        ).format(day=day)
    else:
        target = (
            f"u.level = 'commune' AND u.code = t.commune_code AND u.valid_from <= {day} "
            f"AND (u.valid_to IS NULL OR u.valid_to > {day})"
        )
    sql = f"""
        UPDATE {table} t SET commune_id = u.id, commune_code = u.code
        FROM gis_ioc_adminunit cur, gis_ioc_adminunit u
        WHERE cur.id = t.commune_id {limit}
          AND NOT (cur.valid_from <= {day} AND (cur.valid_to IS NULL OR cur.valid_to > {day}))
          AND {target}
    """  # noqa: S608 - table and column names come from model metadata, not from input
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": unit_ids or []})
        return cursor.rowcount
