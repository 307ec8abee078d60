"""Environmental monitoring as OGC SensorThings (issue 19, item 1): stations (Things) at their Locations,
measuring ObservedProperties with Sensors through Datastreams, each a time series of Observations.

A Thing is a sector feature like a school: located by its point, filed under the commune covering it, so the
catalog layer `monitoring-stations` and the one policy (visibility, commune scope) apply as on every layer.
An Observation is filed under its station's commune (tabular, dated by its time), so it is a catalog layer
too (`observations`) and statistics and alert rules read it like petitions or revenue.
"""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from layers.models.base import SectorFeature


class Sensor(models.Model):
    """The instrument or method that produces a datastream's values."""

    name = models.CharField(_("tên"), max_length=200)
    description = models.TextField(_("mô tả"), blank=True)
    encoding_type = models.CharField(_("kiểu mô tả"), max_length=100, default="text/html")
    metadata = models.TextField(_("tài liệu"), blank=True)

    class Meta:
        verbose_name = _("cảm biến")
        verbose_name_plural = _("cảm biến")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ObservedProperty(models.Model):
    """What is measured, with the range a real value can take (an absurd value is refused on ingestion)."""

    name = models.CharField(_("tên"), max_length=200)
    code = models.SlugField(_("mã"), max_length=50, unique=True)
    definition = models.CharField(_("định nghĩa (URI)"), max_length=300, blank=True)
    description = models.TextField(_("mô tả"), blank=True)
    min_value = models.FloatField(_("giá trị nhỏ nhất hợp lý"), null=True, blank=True)
    max_value = models.FloatField(_("giá trị lớn nhất hợp lý"), null=True, blank=True)

    class Meta:
        verbose_name = _("đại lượng quan trắc")
        verbose_name_plural = _("đại lượng quan trắc")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="property_range_order",
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
            )
        ]

    def __str__(self) -> str:
        return self.name


class StationKind(models.TextChoices):
    WATER = "nuoc", _("Chất lượng nước")
    AIR = "khong_khi", _("Không khí")
    RAIN = "mua", _("Lượng mưa")
    LAKE = "muc_nuoc", _("Mực nước hồ")


class Thing(SectorFeature):
    """A monitoring station (SensorThings Thing); `geom` is its current Location."""

    Kind = StationKind
    name = models.CharField(_("tên trạm"), max_length=200)
    description = models.TextField(_("mô tả"), blank=True)
    kind = models.CharField(_("loại trạm"), max_length=10, choices=StationKind.choices)
    properties = models.JSONField(_("thuộc tính khác"), default=dict, blank=True)
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("trạm quan trắc")
        verbose_name_plural = _("trạm quan trắc")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(name="thing_kind_valid", condition=Q(kind__in=[c[0] for c in StationKind.choices]))
        ]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """Where a Thing is (SensorThings Location); the newest becomes the Thing's geometry."""

    thing = models.ForeignKey(Thing, verbose_name=_("trạm"), on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(_("tên"), max_length=200)
    description = models.TextField(_("mô tả"), blank=True)
    encoding_type = models.CharField(_("kiểu mã hóa"), max_length=50, default="application/geo+json")
    geom = models.PointField(_("vị trí"), srid=4326)

    class Meta:
        verbose_name = _("vị trí trạm")
        verbose_name_plural = _("vị trí trạm")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class Datastream(models.Model):
    """A time series of one ObservedProperty at one Thing, in one unit of measurement."""

    thing = models.ForeignKey(Thing, verbose_name=_("trạm"), on_delete=models.CASCADE, related_name="datastreams")
    sensor = models.ForeignKey(Sensor, verbose_name=_("cảm biến"), on_delete=models.PROTECT, related_name="datastreams")
    observed_property = models.ForeignKey(
        ObservedProperty, verbose_name=_("đại lượng"), on_delete=models.PROTECT, related_name="datastreams"
    )
    name = models.CharField(_("tên"), max_length=200)
    description = models.TextField(_("mô tả"), blank=True)
    observation_type = models.CharField(
        _("kiểu quan trắc"),
        max_length=200,
        default="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
    )
    unit_name = models.CharField(_("tên đơn vị"), max_length=100)
    unit_symbol = models.CharField(_("ký hiệu đơn vị"), max_length=30)
    unit_definition = models.CharField(_("định nghĩa đơn vị"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("chuỗi quan trắc")
        verbose_name_plural = _("chuỗi quan trắc")
        ordering = ["thing", "name"]

    def __str__(self) -> str:
        return self.name

    def unit_of_measurement(self) -> dict[str, Any]:
        return {"name": self.unit_name, "symbol": self.unit_symbol, "definition": self.unit_definition}


class Observation(SectorFeature):
    """One value of a datastream at one time; one per datastream and time (a repeat is the same row)."""

    locate_by = None
    dated_by = "phenomenon_time"
    datastream = models.ForeignKey(
        Datastream, verbose_name=_("chuỗi quan trắc"), on_delete=models.CASCADE, related_name="observations"
    )
    phenomenon_time = models.DateTimeField(_("thời điểm quan trắc"))
    result = models.FloatField(_("kết quả"))
    result_time = models.DateTimeField(_("thời điểm có kết quả"), null=True, blank=True)

    class Meta:
        verbose_name = _("kết quả quan trắc")
        verbose_name_plural = _("kết quả quan trắc")
        ordering = ["-phenomenon_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["datastream", "phenomenon_time"],
                name="observation_once_per_time",
                violation_error_message=_("Chuỗi quan trắc này đã có kết quả tại thời điểm này."),
            )
        ]
        indexes = [models.Index(fields=["datastream", "-phenomenon_time"], name="observation_series_idx")]

    def __str__(self) -> str:
        return f"{self.datastream_id} {self.phenomenon_time:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.datastream_id is not None and not self.commune_code:
            self.commune_code = self.datastream.thing.commune_code
        prop = self.datastream.observed_property if self.datastream_id is not None else None
        if prop is not None and self.result is not None:
            if (prop.min_value is not None and self.result < prop.min_value) or (
                prop.max_value is not None and self.result > prop.max_value
            ):
                raise ValidationError(
                    {
                        "result": _("Giá trị %(value)s nằm ngoài khoảng hợp lý của %(name)s (%(low)s – %(high)s).")
                        % {"value": self.result, "name": prop.name, "low": prop.min_value, "high": prop.max_value}
                    }
                )
        super().clean()
