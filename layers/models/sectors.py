"""Sector models: every district record as a typed, validated, georeferenced feature (SRID 4326)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any, ClassVar, Self

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Case, ExpressionWrapper, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from layers.landuse import LAND_USE_CHOICES, LAND_USE_CODES
from layers.models.base import CommuneQuerySet, SectorFeature
from layers.validation import normalise_land_use

_nonneg = [MinValueValidator(0)]


def one_of(name: str, field: str, choices: Iterable[Any]) -> models.CheckConstraint:
    """A CHECK that the column holds one of the choices: imports that bypass full_clean are held too."""
    values = [c[0] if isinstance(c, tuple) else c for c in choices]
    return models.CheckConstraint(name=name, condition=Q(**{f"{field}__in": values}))


def valid_geometry(name: str) -> models.CheckConstraint:
    """CHECK ST_IsValid(geom): no path (admin, API, import, raw SQL) can store an invalid polygon."""
    return models.CheckConstraint(name=name, condition=Q(geom__isvalid=True))


class LandUseCoded(models.Model):
    """Normalises `land_use` ("cln " -> "CLN") and explains an unknown code, before the choices check."""

    land_use: str  # the concrete model's CharField (with LAND_USE_CHOICES)

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        skip = set(exclude or ())
        errors: dict[str, list[str]] = {}
        if "land_use" not in skip:
            try:
                self.land_use = normalise_land_use(self.land_use)
            except ValidationError as exc:
                errors["land_use"] = list(exc.messages)
                skip.add("land_use")
        try:
            super().clean_fields(exclude=skip)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)


class SchoolLevel(models.TextChoices):
    MAM_NON = "mam_non", _("Mầm non")
    TIEU_HOC = "tieu_hoc", _("Tiểu học")
    THCS = "thcs", _("THCS")
    THPT = "thpt", _("THPT")
    LIEN_CAP = "lien_cap", _("Liên cấp")


class SchoolOwnership(models.TextChoices):
    PUBLIC = "public", _("Công lập")
    PRIVATE = "private", _("Ngoài công lập")


class School(SectorFeature):
    Level = SchoolLevel
    Ownership = SchoolOwnership
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
        constraints = [
            one_of("school_level_valid", "level", SchoolLevel.choices),
            one_of("school_ownership_valid", "ownership", SchoolOwnership.choices),
        ]

    def __str__(self) -> str:
        return self.name


class HealthFacilityType(models.TextChoices):
    TRAM_Y_TE = "tram_y_te", _("Trạm y tế xã")
    PKDK = "pkdk_khu_vuc", _("Phòng khám đa khoa khu vực")
    TTYT = "ttyt_huyen", _("Trung tâm y tế huyện")
    BENH_VIEN = "benh_vien", _("Bệnh viện")
    NHA_THUOC = "nha_thuoc", _("Nhà thuốc")


class HealthFacility(SectorFeature):
    Type = HealthFacilityType
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
        constraints = [one_of("health_type_valid", "facility_type", HealthFacilityType.choices)]

    def __str__(self) -> str:
        return self.name


class HouseholdBusinessStatus(models.TextChoices):
    ACTIVE = "active", _("Đang hoạt động")
    SUSPENDED = "suspended", _("Tạm ngừng")
    CLOSED = "closed", _("Đã đóng")


class HouseholdBusiness(SectorFeature):
    dated_by = "registration_date"
    Status = HouseholdBusinessStatus
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
        constraints = [
            models.CheckConstraint(name="hkd_tax_nonneg", condition=Q(monthly_tax__gte=0)),
            one_of("hkd_status_valid", "status", HouseholdBusinessStatus.choices),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.registration_date and self.registration_date > timezone.localdate():
            raise ValidationError({"registration_date": _("Ngày đăng ký không thể ở tương lai.")})


class LandParcelCertificate(models.TextChoices):
    GRANTED = "granted", _("Đã cấp GCN")
    PENDING = "pending", _("Đang xử lý")
    NONE = "none", _("Chưa cấp")


class LandParcel(LandUseCoded, SectorFeature):
    Certificate = LandParcelCertificate
    sheet_number = models.PositiveIntegerField(_("tờ bản đồ số"), validators=[MinValueValidator(1)])
    parcel_number = models.PositiveIntegerField(_("thửa số"), validators=[MinValueValidator(1)])
    area_m2 = models.FloatField(_("diện tích (m²)"), validators=[MinValueValidator(0.01)])
    land_use = models.CharField(_("mục đích sử dụng"), max_length=3, choices=LAND_USE_CHOICES)
    certificate_status = models.CharField(
        _("tình trạng GCN"), max_length=10, choices=Certificate.choices, default=Certificate.NONE
    )
    # Mean slope under the parcel, from the slope raster (layers/landslide.py); None until computed.
    slope_deg = models.FloatField(_("độ dốc bình quân (°)"), null=True, blank=True, editable=False)
    geom = models.MultiPolygonField(_("ranh thửa"), srid=4326, spatial_index=True)

    class Meta:
        verbose_name = _("thửa đất")
        verbose_name_plural = _("thửa đất")
        ordering = ["commune_code", "sheet_number", "parcel_number"]
        constraints = [
            # A parcel is keyed by commune + map sheet + parcel number (cadastral practice).
            models.UniqueConstraint(
                fields=["commune_code", "sheet_number", "parcel_number"],
                name="parcel_key_uniq",
                violation_error_message=_("Trùng khóa thửa: xã, tờ bản đồ số và thửa số này đã có trong dữ liệu."),
            ),
            models.CheckConstraint(name="parcel_area_pos", condition=Q(area_m2__gt=0)),
            one_of("parcel_land_use_valid", "land_use", LAND_USE_CODES),
            one_of("parcel_certificate_valid", "certificate_status", LandParcelCertificate.choices),
            valid_geometry("parcel_geom_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.commune_code} / tờ {self.sheet_number} / thửa {self.parcel_number}"


class PlanningPlanLevel(models.TextChoices):
    CHUNG = "chung", _("Quy hoạch chung")
    PHAN_KHU = "phan_khu", _("Quy hoạch phân khu")
    SU_DUNG_DAT = "su_dung_dat", _("Quy hoạch sử dụng đất")


class PlanningPlanStatus(models.TextChoices):
    DRAFT = "draft", _("Dự thảo")
    APPROVED = "approved", _("Đã phê duyệt")
    SUPERSEDED = "superseded", _("Đã thay thế")


class PlanningPlan(models.Model):
    Level = PlanningPlanLevel
    Status = PlanningPlanStatus
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
        constraints = [
            models.CheckConstraint(name="plan_period_order", condition=Q(period_end__gte=F("period_start"))),
            one_of("plan_level_valid", "level", PlanningPlanLevel.choices),
            one_of("plan_status_valid", "status", PlanningPlanStatus.choices),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period_start}–{self.period_end})"

    def clean(self) -> None:
        super().clean()
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": _("Năm kết thúc phải sau hoặc bằng năm bắt đầu.")})
        if self.status == self.Status.APPROVED and not self.approval_decision:
            raise ValidationError({"approval_decision": _("Quy hoạch đã phê duyệt cần số quyết định phê duyệt.")})


class PlanningZone(LandUseCoded, SectorFeature):
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
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "zone_code"],
                name="zone_code_per_plan_uniq",
                violation_error_message=_("Mã khu này đã có trong đồ án quy hoạch."),
            ),
            one_of("zone_land_use_valid", "land_use", LAND_USE_CODES),
            valid_geometry("zone_geom_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.zone_code}"


class DossierQuerySet(CommuneQuerySet["Dossier"]):
    def with_on_time(self) -> Self:
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


# Named (not `as_manager()`): a subclass's manager must be declared as a ClassVar to override the base's.
DossierManager = models.Manager.from_queryset(DossierQuerySet)


class DossierStatus(models.TextChoices):
    RECEIVED = "received", _("Đã tiếp nhận")
    PROCESSING = "processing", _("Đang giải quyết")
    RESOLVED = "resolved", _("Đã trả kết quả")
    RETURNED = "returned", _("Trả lại/không đủ điều kiện")


class Dossier(SectorFeature):
    """An administrative-procedure dossier (hồ sơ thủ tục hành chính); located by its commune."""

    dated_by = "received_date"

    Status = DossierStatus
    locate_by = None
    procedure_code = models.CharField(_("mã thủ tục"), max_length=30)
    procedure_name = models.CharField(_("tên thủ tục"), max_length=300)
    field = models.CharField(_("lĩnh vực"), max_length=100)
    received_date = models.DateField(_("ngày tiếp nhận"))
    due_date = models.DateField(_("ngày hẹn trả"))
    resolved_date = models.DateField(_("ngày trả kết quả"), null=True, blank=True)
    status = models.CharField(_("trạng thái"), max_length=12, choices=Status.choices, default=Status.RECEIVED)

    objects: ClassVar[DossierManager] = DossierManager()

    class Meta:
        verbose_name = _("hồ sơ thủ tục hành chính")
        verbose_name_plural = _("hồ sơ thủ tục hành chính")
        ordering = ["-received_date"]
        constraints = [
            models.CheckConstraint(
                name="dossier_due_after_received",
                condition=Q(due_date__gte=F("received_date")),
                violation_error_message=_("Ngày hẹn trả không thể trước ngày tiếp nhận."),
            ),
            models.CheckConstraint(
                name="dossier_resolved_after_received",
                condition=Q(resolved_date__isnull=True) | Q(resolved_date__gte=F("received_date")),
                violation_error_message=_("Ngày trả kết quả không thể trước ngày tiếp nhận."),
            ),
            one_of("dossier_status_valid", "status", DossierStatus.choices),
        ]
        indexes = [
            models.Index(fields=["commune_code", "received_date"], name="dossier_commune_received_idx"),
            models.Index(fields=["resolved_date"], name="dossier_resolved_idx"),
            # Only dossiers never resolved or resolved late can ever be overdue: a small partial index
            # serves the overdue statistic for every period.
            models.Index(
                fields=["due_date"],
                name="dossier_late_idx",
                condition=Q(resolved_date__isnull=True) | Q(resolved_date__gt=F("due_date")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_code} {self.received_date}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.received_date and self.due_date and self.due_date < self.received_date:
            errors["due_date"] = _("Ngày hẹn trả không thể trước ngày tiếp nhận.")
        if self.received_date and self.resolved_date and self.resolved_date < self.received_date:
            errors["resolved_date"] = _("Ngày trả kết quả không thể trước ngày tiếp nhận.")
        if self.status in (self.Status.RESOLVED, self.Status.RETURNED) and not self.resolved_date:
            errors["resolved_date"] = _("Hồ sơ đã trả kết quả hoặc trả lại cần ngày trả.")
        if errors:
            raise ValidationError(errors)

    @property
    def on_time(self) -> bool | None:
        """Derived, never stored: resolved by the due date; False once overdue; None while pending."""
        if self.resolved_date is not None:
            return self.resolved_date <= self.due_date
        if self.due_date < dt.date.today():
            return False
        return None


class BudgetRevenueSource(models.TextChoices):
    TAX = "thue", _("Thuế")
    FEES = "phi_le_phi", _("Phí, lệ phí")
    LAND = "dat_dai", _("Thu từ đất đai")
    OTHER = "khac", _("Thu khác")


class BudgetRevenue(SectorFeature):
    dated_by = "month"
    Source = BudgetRevenueSource
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
            models.CheckConstraint(name="revenue_first_of_month", condition=Q(month__day=1)),
            one_of("revenue_source_valid", "source", BudgetRevenueSource.choices),
        ]

    def __str__(self) -> str:
        return f"{self.commune_code} {self.month:%m/%Y} {self.source}"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # A month is stored as its first day; "15/03/2024" means March 2024.
        if self.month is not None and hasattr(self.month, "replace"):
            self.month = self.month.replace(day=1)
        super().clean_fields(exclude=exclude)


class IndicatorCode(models.TextChoices):
    POPULATION = "population", _("Dân số")
    HOUSEHOLDS = "households", _("Số hộ")
    POOR_RATE = "poor_household_rate", _("Tỷ lệ hộ nghèo")
    NEAR_POOR_RATE = "near_poor_rate", _("Tỷ lệ hộ cận nghèo")
    INCOME = "income_per_capita", _("Thu nhập bình quân đầu người")
    LABOUR = "labour_force", _("Lực lượng lao động")
    CROP_AREA = "crop_area", _("Diện tích gieo trồng")
    HEALTH_INSURANCE = "health_insurance_rate", _("Tỷ lệ tham gia BHYT")


class Indicator(SectorFeature):
    dated_by = "year"
    Code = IndicatorCode
    locate_by = None
    code = models.CharField(_("mã chỉ tiêu"), max_length=30, choices=Code.choices)
    year = models.PositiveSmallIntegerField(_("năm"), validators=[MinValueValidator(1975), MaxValueValidator(2100)])
    value = models.FloatField(_("giá trị"))
    unit = models.CharField(_("đơn vị tính"), max_length=30)

    class Meta:
        verbose_name = _("chỉ tiêu kinh tế – xã hội")
        verbose_name_plural = _("chỉ tiêu kinh tế – xã hội")
        ordering = ["commune_code", "code", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["commune_code", "code", "year"],
                name="indicator_key_uniq",
                violation_error_message=_("Chỉ tiêu này của xã trong năm này đã có."),
            ),
            models.CheckConstraint(name="indicator_value_nonneg", condition=Q(value__gte=0)),
            one_of("indicator_code_valid", "code", IndicatorCode.choices),
        ]

    def __str__(self) -> str:
        return f"{self.commune_code} {self.code} {self.year}"

    def clean(self) -> None:
        super().clean()
        if self.value is not None and self.value < 0:
            raise ValidationError({"value": _("Giá trị chỉ tiêu không thể âm.")})
        if self.value is not None and self.code.endswith("_rate") and self.value > 100:
            raise ValidationError({"value": _("Tỷ lệ phải nằm trong khoảng 0–100%.")})
