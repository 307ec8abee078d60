"""Sector models: every district record as a typed, validated, georeferenced feature (SRID 4326)."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Case, ExpressionWrapper, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from layers.landuse import LAND_USE_CHOICES
from layers.models.base import CommuneQuerySet, SectorFeature

_nonneg = [MinValueValidator(0)]


class School(SectorFeature):
    class Level(models.TextChoices):
        MAM_NON = "mam_non", _("Mầm non")
        TIEU_HOC = "tieu_hoc", _("Tiểu học")
        THCS = "thcs", _("THCS")
        THPT = "thpt", _("THPT")
        LIEN_CAP = "lien_cap", _("Liên cấp")

    class Ownership(models.TextChoices):
        PUBLIC = "public", _("Công lập")
        PRIVATE = "private", _("Ngoài công lập")

    name = models.CharField(_("tên trường"), max_length=200)
    level = models.CharField(_("cấp học"), max_length=10, choices=Level.choices)
    ownership = models.CharField(_("loại hình"), max_length=10, choices=Ownership.choices, default=Ownership.PUBLIC)
    pupils = models.PositiveIntegerField(_("số học sinh"), default=0)
    teachers = models.PositiveIntegerField(_("số giáo viên"), default=0)
    classrooms = models.PositiveIntegerField(_("số phòng học"), default=0)
    figures_year = models.PositiveSmallIntegerField(
        _("năm số liệu"), default=2024, validators=[MinValueValidator(1975), MaxValueValidator(2100)]
    )
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("trường học")
        verbose_name_plural = _("trường học")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HealthFacility(SectorFeature):
    class Type(models.TextChoices):
        TRAM_Y_TE = "tram_y_te", _("Trạm y tế xã")
        PKDK = "pkdk_khu_vuc", _("Phòng khám đa khoa khu vực")
        TTYT = "ttyt_huyen", _("Trung tâm y tế huyện")
        BENH_VIEN = "benh_vien", _("Bệnh viện")
        NHA_THUOC = "nha_thuoc", _("Nhà thuốc")

    name = models.CharField(_("tên cơ sở"), max_length=200)
    facility_type = models.CharField(_("loại cơ sở"), max_length=20, choices=Type.choices)
    beds = models.PositiveIntegerField(_("số giường"), default=0)
    doctors = models.PositiveIntegerField(_("số bác sĩ"), default=0)
    staff = models.PositiveIntegerField(_("số nhân viên"), default=0)
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("cơ sở y tế")
        verbose_name_plural = _("cơ sở y tế")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HouseholdBusiness(SectorFeature):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Đang hoạt động")
        SUSPENDED = "suspended", _("Tạm ngừng")
        CLOSED = "closed", _("Đã đóng")

    name = models.CharField(_("tên hộ kinh doanh"), max_length=200)
    business_line = models.CharField(_("ngành nghề"), max_length=200)
    registration_number = models.CharField(_("số đăng ký"), max_length=30, unique=True)
    registration_date = models.DateField(_("ngày đăng ký"))
    status = models.CharField(_("trạng thái"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    monthly_tax = models.DecimalField(
        _("thuế khoán tháng (VND)"), max_digits=14, decimal_places=0, default=0, validators=_nonneg
    )
    # Personal data of the owner: the catalog exposes these only to roles that need them.
    owner_name = models.CharField(_("chủ hộ"), max_length=200, blank=True)
    owner_id_number = models.CharField(_("số CCCD chủ hộ"), max_length=20, blank=True)
    owner_phone = models.CharField(_("điện thoại chủ hộ"), max_length=20, blank=True)
    address = models.CharField(_("địa chỉ"), max_length=300, blank=True)
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("hộ kinh doanh")
        verbose_name_plural = _("hộ kinh doanh")
        ordering = ["name"]
        constraints = [models.CheckConstraint(name="hkd_tax_nonneg", condition=Q(monthly_tax__gte=0))]

    def __str__(self) -> str:
        return self.name


class LandParcel(SectorFeature):
    class Certificate(models.TextChoices):
        GRANTED = "granted", _("Đã cấp GCN")
        PENDING = "pending", _("Đang xử lý")
        NONE = "none", _("Chưa cấp")

    sheet_number = models.PositiveIntegerField(_("tờ bản đồ số"), validators=[MinValueValidator(1)])
    parcel_number = models.PositiveIntegerField(_("thửa số"), validators=[MinValueValidator(1)])
    area_m2 = models.FloatField(_("diện tích (m²)"), validators=[MinValueValidator(0.01)])
    land_use = models.CharField(_("mục đích sử dụng"), max_length=3, choices=LAND_USE_CHOICES)
    certificate_status = models.CharField(
        _("tình trạng GCN"), max_length=10, choices=Certificate.choices, default=Certificate.NONE
    )
    geom = models.MultiPolygonField(_("ranh thửa"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("thửa đất")
        verbose_name_plural = _("thửa đất")
        ordering = ["commune_code", "sheet_number", "parcel_number"]
        constraints = [
            # A parcel is keyed by commune + map sheet + parcel number (cadastral practice).
            models.UniqueConstraint(fields=["commune_code", "sheet_number", "parcel_number"], name="parcel_key_uniq"),
            models.CheckConstraint(name="parcel_area_pos", condition=Q(area_m2__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.commune_code} / tờ {self.sheet_number} / thửa {self.parcel_number}"


class PlanningPlan(models.Model):
    class Level(models.TextChoices):
        CHUNG = "chung", _("Quy hoạch chung")
        PHAN_KHU = "phan_khu", _("Quy hoạch phân khu")
        SU_DUNG_DAT = "su_dung_dat", _("Quy hoạch sử dụng đất")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Dự thảo")
        APPROVED = "approved", _("Đã phê duyệt")
        SUPERSEDED = "superseded", _("Đã thay thế")

    name = models.CharField(_("tên quy hoạch"), max_length=300)
    level = models.CharField(_("cấp quy hoạch"), max_length=12, choices=Level.choices)
    period_start = models.PositiveSmallIntegerField(_("từ năm"))
    period_end = models.PositiveSmallIntegerField(_("đến năm"))
    status = models.CharField(_("trạng thái"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    approval_decision = models.CharField(_("quyết định phê duyệt"), max_length=200, blank=True)
    approved_on = models.DateField(_("ngày phê duyệt"), null=True, blank=True)
    is_demo = models.BooleanField(_("dữ liệu mẫu"), default=False)

    class Meta:
        verbose_name = _("đồ án quy hoạch")
        verbose_name_plural = _("đồ án quy hoạch")
        ordering = ["-period_start"]
        constraints = [models.CheckConstraint(name="plan_period_order", condition=Q(period_end__gte=F("period_start")))]

    def __str__(self) -> str:
        return f"{self.name} ({self.period_start}–{self.period_end})"


class PlanningZone(SectorFeature):
    plan = models.ForeignKey(PlanningPlan, verbose_name=_("quy hoạch"), on_delete=models.CASCADE, related_name="zones")
    zone_code = models.CharField(_("mã khu"), max_length=30)
    land_use = models.CharField(_("chức năng sử dụng đất quy hoạch"), max_length=3, choices=LAND_USE_CHOICES)
    max_density = models.FloatField(
        _("mật độ xây dựng tối đa (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    max_height = models.FloatField(_("chiều cao tối đa (m)"), null=True, blank=True, validators=_nonneg)
    geom = models.MultiPolygonField(_("ranh khu"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("khu quy hoạch")
        verbose_name_plural = _("khu quy hoạch")
        ordering = ["plan", "zone_code"]
        constraints = [models.UniqueConstraint(fields=["plan", "zone_code"], name="zone_code_per_plan_uniq")]

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.zone_code}"


class DossierQuerySet(CommuneQuerySet):
    def with_on_time(self) -> DossierQuerySet:
        """Annotate on_time: resolved by the due date (None while still open and not yet late)."""
        return self.annotate(
            on_time_db=Case(
                When(
                    resolved_date__isnull=False,
                    then=ExpressionWrapper(Q(resolved_date__lte=F("due_date")), output_field=models.BooleanField()),
                ),
                When(due_date__lt=Value(dt.date.today()), then=Value(False)),
                default=Value(None),
                output_field=models.BooleanField(null=True),
            )
        )


class Dossier(SectorFeature):
    """An administrative-procedure dossier (hồ sơ thủ tục hành chính); located by its commune."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Đã tiếp nhận")
        PROCESSING = "processing", _("Đang giải quyết")
        RESOLVED = "resolved", _("Đã trả kết quả")
        RETURNED = "returned", _("Trả lại/không đủ điều kiện")

    locate_by = None
    procedure_code = models.CharField(_("mã thủ tục"), max_length=30)
    procedure_name = models.CharField(_("tên thủ tục"), max_length=300)
    field = models.CharField(_("lĩnh vực"), max_length=100)
    received_date = models.DateField(_("ngày tiếp nhận"))
    due_date = models.DateField(_("ngày hẹn trả"))
    resolved_date = models.DateField(_("ngày trả kết quả"), null=True, blank=True)
    status = models.CharField(_("trạng thái"), max_length=12, choices=Status.choices, default=Status.RECEIVED)

    objects = DossierQuerySet.as_manager()

    class Meta:
        verbose_name = _("hồ sơ thủ tục hành chính")
        verbose_name_plural = _("hồ sơ thủ tục hành chính")
        ordering = ["-received_date"]
        constraints = [
            models.CheckConstraint(name="dossier_due_after_received", condition=Q(due_date__gte=F("received_date"))),
            models.CheckConstraint(
                name="dossier_resolved_after_received",
                condition=Q(resolved_date__isnull=True) | Q(resolved_date__gte=F("received_date")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_code} {self.received_date}"

    @property
    def on_time(self) -> bool | None:
        """Derived, never stored: resolved by the due date; False once overdue; None while pending."""
        if self.resolved_date is not None:
            return self.resolved_date <= self.due_date
        if self.due_date < dt.date.today():
            return False
        return None


class BudgetRevenue(SectorFeature):
    class Source(models.TextChoices):
        TAX = "thue", _("Thuế")
        FEES = "phi_le_phi", _("Phí, lệ phí")
        LAND = "dat_dai", _("Thu từ đất đai")
        OTHER = "khac", _("Thu khác")

    locate_by = None
    month = models.DateField(_("tháng"), help_text=_("Ngày đầu tháng"))
    source = models.CharField(_("nguồn thu"), max_length=12, choices=Source.choices)
    planned = models.DecimalField(_("dự toán (VND)"), max_digits=16, decimal_places=0, validators=_nonneg)
    actual = models.DecimalField(_("thực thu (VND)"), max_digits=16, decimal_places=0, validators=_nonneg)

    class Meta:
        verbose_name = _("thu ngân sách")
        verbose_name_plural = _("thu ngân sách")
        ordering = ["-month", "commune_code", "source"]
        constraints = [
            models.UniqueConstraint(fields=["commune_code", "month", "source"], name="revenue_key_uniq"),
            models.CheckConstraint(name="revenue_nonneg", condition=Q(planned__gte=0) & Q(actual__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.commune_code} {self.month:%m/%Y} {self.source}"


class Indicator(SectorFeature):
    class Code(models.TextChoices):
        POPULATION = "population", _("Dân số")
        HOUSEHOLDS = "households", _("Số hộ")
        POOR_RATE = "poor_household_rate", _("Tỷ lệ hộ nghèo")
        NEAR_POOR_RATE = "near_poor_rate", _("Tỷ lệ hộ cận nghèo")
        INCOME = "income_per_capita", _("Thu nhập bình quân đầu người")
        LABOUR = "labour_force", _("Lực lượng lao động")
        CROP_AREA = "crop_area", _("Diện tích gieo trồng")
        HEALTH_INSURANCE = "health_insurance_rate", _("Tỷ lệ tham gia BHYT")

    locate_by = None
    code = models.CharField(_("mã chỉ tiêu"), max_length=30, choices=Code.choices)
    year = models.PositiveSmallIntegerField(_("năm"), validators=[MinValueValidator(1975), MaxValueValidator(2100)])
    value = models.FloatField(_("giá trị"))
    unit = models.CharField(_("đơn vị tính"), max_length=30)

    class Meta:
        verbose_name = _("chỉ tiêu kinh tế – xã hội")
        verbose_name_plural = _("chỉ tiêu kinh tế – xã hội")
        ordering = ["commune_code", "code", "year"]
        constraints = [models.UniqueConstraint(fields=["commune_code", "code", "year"], name="indicator_key_uniq")]

    def __str__(self) -> str:
        return f"{self.commune_code} {self.code} {self.year}"
