"""Agriculture and tourism, the sectors the district named next (issue 19, items 2 and 3).

Đơn Dương grows vegetables and flowers, much of it under greenhouses (Thạnh Mỹ, Lạc Lâm, Ka Đô), keeps
dairy cattle, and receives visitors at the Đa Nhim lake, farms and homestays. Each model is a sector
feature like the others (commune assigned spatially, demo flag), published by the catalog on every channel.
"""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from layers.models.base import SectorFeature
from layers.models.sectors import one_of, valid_geometry

_nonneg = [MinValueValidator(0)]


class Crop(models.TextChoices):
    VEGETABLES = "rau", _("Rau các loại")
    FLOWERS = "hoa", _("Hoa")
    STRAWBERRY = "dau_tay", _("Dâu tây")
    ARTICHOKE = "atiso", _("Atisô")
    COFFEE = "ca_phe", _("Cà phê")
    RICE = "lua", _("Lúa")
    FODDER = "co_chan_nuoi", _("Cỏ chăn nuôi")
    OTHER = "khac", _("Cây khác")


class Season(models.TextChoices):
    WINTER_SPRING = "dong_xuan", _("Vụ Đông Xuân")
    SUMMER_AUTUMN = "he_thu", _("Vụ Hè Thu")
    AUTUMN_WINTER = "thu_dong", _("Vụ Thu Đông")
    ALL_YEAR = "quanh_nam", _("Quanh năm")


class Certification(models.TextChoices):
    NONE = "none", _("Chưa chứng nhận")
    VIETGAP = "vietgap", _("VietGAP")
    GLOBALGAP = "globalgap", _("GlobalGAP")
    ORGANIC = "huu_co", _("Hữu cơ")


class CropArea(SectorFeature):
    """A field or greenhouse block under one crop in one season of one year (vùng trồng)."""

    dated_by = "year"
    Crop = Crop
    Season = Season
    Certification = Certification
    crop = models.CharField(_("cây trồng"), max_length=15, choices=Crop.choices)
    season = models.CharField(_("mùa vụ"), max_length=10, choices=Season.choices)
    year = models.PositiveSmallIntegerField(_("năm"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    greenhouse = models.BooleanField(_("nhà kính, nhà lưới"), default=False)
    certification = models.CharField(
        _("chứng nhận"), max_length=10, choices=Certification.choices, default=Certification.NONE
    )
    area_m2 = models.FloatField(_("diện tích (m²)"), validators=[MinValueValidator(1)])
    grower = models.CharField(_("hộ, hợp tác xã canh tác"), max_length=200, blank=True)
    geom = models.MultiPolygonField(_("ranh vùng trồng"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("vùng trồng")
        verbose_name_plural = _("vùng trồng")
        ordering = ["commune_code", "-year", "crop"]
        constraints = [
            models.CheckConstraint(name="crop_area_pos", condition=Q(area_m2__gt=0)),
            one_of("crop_valid", "crop", Crop.choices),
            one_of("crop_season_valid", "season", Season.choices),
            one_of("crop_certification_valid", "certification", Certification.choices),
            valid_geometry("crop_geom_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_crop_display()} {self.year} ({self.commune_code})"


class FarmKind(models.TextChoices):
    COOPERATIVE = "htx", _("Hợp tác xã")
    FARM = "trang_trai", _("Trang trại")
    ENTERPRISE = "doanh_nghiep", _("Doanh nghiệp nông nghiệp")
    GROUP = "to_hop_tac", _("Tổ hợp tác")


class FarmProduct(models.TextChoices):
    VEGETABLES = "rau", _("Rau")
    FLOWERS = "hoa", _("Hoa")
    DAIRY = "bo_sua", _("Bò sữa")
    FRUIT = "cay_an_qua", _("Cây ăn quả")
    MIXED = "tong_hop", _("Tổng hợp")


class Farm(SectorFeature):
    """A cooperative, farm or agricultural enterprise (hợp tác xã, trang trại)."""

    Kind = FarmKind
    Product = FarmProduct
    name = models.CharField(_("tên"), max_length=200)
    kind = models.CharField(_("loại hình"), max_length=15, choices=FarmKind.choices)
    product = models.CharField(_("sản phẩm chính"), max_length=12, choices=FarmProduct.choices)
    members = models.PositiveIntegerField(_("số thành viên, lao động"), null=True, blank=True)
    area_ha = models.FloatField(_("diện tích sản xuất (ha)"), null=True, blank=True, validators=_nonneg)
    certification = models.CharField(
        _("chứng nhận"), max_length=10, choices=Certification.choices, default=Certification.NONE
    )
    founded = models.PositiveSmallIntegerField(
        _("năm thành lập"), null=True, blank=True, validators=[MinValueValidator(1950), MaxValueValidator(2100)]
    )
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("hợp tác xã, trang trại")
        verbose_name_plural = _("hợp tác xã, trang trại")
        ordering = ["name"]
        constraints = [
            one_of("farm_kind_valid", "kind", FarmKind.choices),
            one_of("farm_product_valid", "product", FarmProduct.choices),
            one_of("farm_certification_valid", "certification", Certification.choices),
            models.CheckConstraint(name="farm_area_nonneg", condition=Q(area_ha__gte=0) | Q(area_ha__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.name


class TourismKind(models.TextChoices):
    ATTRACTION = "diem_tham_quan", _("Điểm tham quan")
    HOMESTAY = "homestay", _("Homestay")
    FARMSTAY = "farmstay", _("Farmstay, nông trại du lịch")
    HOTEL = "khach_san", _("Khách sạn")
    GUESTHOUSE = "nha_nghi", _("Nhà nghỉ")
    RESORT = "khu_du_lich", _("Khu du lịch")


ACCOMMODATION_KINDS = (TourismKind.HOMESTAY, TourismKind.FARMSTAY, TourismKind.HOTEL, TourismKind.GUESTHOUSE,
                       TourismKind.RESORT)  # fmt: skip


class TourismSite(SectorFeature):
    """A point of interest or an accommodation, with its capacity (rooms and beds for accommodations)."""

    Kind = TourismKind
    name = models.CharField(_("tên"), max_length=200)
    kind = models.CharField(_("loại"), max_length=15, choices=TourismKind.choices)
    rooms = models.PositiveIntegerField(_("số phòng"), null=True, blank=True)
    beds = models.PositiveIntegerField(_("số giường"), null=True, blank=True)
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("điểm du lịch, cơ sở lưu trú")
        verbose_name_plural = _("điểm du lịch, cơ sở lưu trú")
        ordering = ["name"]
        constraints = [one_of("tourism_kind_valid", "kind", TourismKind.choices)]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.rooms and self.beds is not None and self.beds < self.rooms:
            raise ValidationError({"beds": _("Số giường không thể ít hơn số phòng.")})


class VisitorCount(SectorFeature):
    """Visitors received by a tourism site in one month (filed under the site's commune)."""

    dated_by = "month"
    locate_by = None
    site = models.ForeignKey(TourismSite, verbose_name=_("điểm du lịch"), on_delete=models.CASCADE,
                             related_name="visitor_counts")  # fmt: skip
    month = models.DateField(_("tháng"), help_text=_("Ngày đầu tháng"))
    visitors = models.PositiveIntegerField(_("lượt khách"))
    overnight = models.PositiveIntegerField(_("lượt khách lưu trú"), default=0)

    class Meta:
        verbose_name = _("lượt khách du lịch")
        verbose_name_plural = _("lượt khách du lịch")
        ordering = ["-month", "site"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "month"],
                name="visitors_key_uniq",
                violation_error_message=_("Số lượt khách của điểm này trong tháng này đã có."),
            ),
            models.CheckConstraint(name="visitors_first_of_month", condition=Q(month__day=1)),
            models.CheckConstraint(name="visitors_overnight_le", condition=Q(overnight__lte=models.F("visitors"))),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.month:%m/%Y}"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # A month is stored as its first day; "15/03/2024" means March 2024.
        if self.month is not None and hasattr(self.month, "replace"):
            self.month = self.month.replace(day=1)
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        # Filed under the commune that covered the site that month (after a merger, the predecessor it lay in).
        if self.site_id is not None and self.month is not None:
            from gis_ioc.models import AdminUnit

            unit = AdminUnit.objects.current(self.record_date()).communes().containing(self.site.geom).first()
            if unit is not None:
                self.commune, self.commune_code = unit, unit.code
        if self.overnight is not None and self.visitors is not None and self.overnight > self.visitors:
            raise ValidationError({"overnight": _("Lượt khách lưu trú không thể nhiều hơn tổng lượt khách.")})
        super().clean()
