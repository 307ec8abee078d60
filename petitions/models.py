"""Citizen petitions (phản ánh kiến nghị) as georeferenced records, their history, agencies and field reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from types import SimpleNamespace
from typing import Any, ClassVar, Self

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from layers.models.base import CommuneQuerySet, SectorFeature


class Category(models.TextChoices):
    DAT_DAI = "dat_dai", _("Đất đai")
    MOI_TRUONG = "moi_truong", _("Môi trường")
    TRAT_TU_XAY_DUNG = "trat_tu_xay_dung", _("Trật tự xây dựng")
    GIAO_THONG = "giao_thong_ha_tang", _("Giao thông – hạ tầng")
    AN_NINH = "an_ninh_trat_tu", _("An ninh trật tự")
    Y_TE = "y_te", _("Y tế")
    GIAO_DUC = "giao_duc", _("Giáo dục")
    DIEN_NUOC = "dien_nuoc", _("Điện – nước")
    THU_TUC = "thu_tuc_hanh_chinh", _("Thủ tục hành chính")
    KHAC = "khac", _("Khác")


class Status(models.TextChoices):
    RECEIVED = "received", _("Đã tiếp nhận")
    VERIFIED = "verified", _("Đã xác minh")
    REJECTED = "rejected", _("Không hợp lệ")
    DUPLICATE = "duplicate", _("Trùng lặp")
    ASSIGNED = "assigned", _("Đã chuyển xử lý")
    IN_PROGRESS = "in_progress", _("Đang xử lý")
    RESOLVED = "resolved", _("Đã giải quyết")
    CLOSED = "closed", _("Đã đóng")


class Urgency(models.TextChoices):
    """How soon a petition needs action, as the officer who verifies it judges (blank until one has)."""

    LOW = "low", _("Không gấp")
    NORMAL = "normal", _("Bình thường")
    HIGH = "high", _("Khẩn")


OPEN_STATUSES = [Status.RECEIVED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS]
# Open311 has two states; everything that needs no more work from the government is "closed".
CLOSED_STATUSES = [Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.DUPLICATE]


# With select_related("commune"), skip the commune's boundary: lists need its name, and parsing a detailed
# MultiPolygon per row costs more than the rest of the row.
HEAVY = ("commune__geom",)


class Source(models.TextChoices):
    WEB = "web", _("Cổng thông tin")
    OPEN311 = "open311", _("Open311")
    FIELD = "field", _("Cán bộ hiện trường")
    STAFF = "staff", _("Cán bộ tiếp nhận")
    DEMO = "demo", _("Dữ liệu mẫu")


def new_tracking_code() -> str:
    """A short code a citizen can read over the phone: PA-XXXXXXXX, no 0/O/1/I."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "PA-" + "".join(secrets.choice(alphabet) for _i in range(8))


def new_token() -> str:
    return secrets.token_hex(16)


RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_receipt_secret() -> str:
    """The secret printed on a filer's receipt: 12 symbols (60 random bits) in groups, e.g. K7QM-4XRP-9DTA."""
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _i in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def receipt_digest(secret: str) -> str:
    """What is stored of a receipt secret. A plain SHA-256 is enough: the secret is 60 random bits, not a
    password a person chose, so there is no dictionary to try; case, spaces and dashes do not matter."""
    normal = "".join(ch for ch in str(secret).upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def unknown_receipt() -> str:
    """The digest of a secret nobody is told: records created outside intake (demo, imports) are not rated."""
    return receipt_digest(new_receipt_secret())


class Agency(models.Model):
    """A government body that resolves petitions (a department, a commune People's Committee, a utility)."""

    code = models.SlugField(_("mã cơ quan"), max_length=40, unique=True)
    name = models.CharField(_("tên cơ quan"), max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("cán bộ"), related_name="petition_agencies", blank=True
    )
    is_demo = models.BooleanField(_("dữ liệu mẫu"), default=False)

    class Meta:
        verbose_name = _("cơ quan xử lý")
        verbose_name_plural = _("cơ quan xử lý")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Category + commune -> agency. An empty commune code is the district-wide fallback for the category."""

    category = models.CharField(_("lĩnh vực"), max_length=24, choices=Category.choices)
    commune_code = models.CharField(_("mã xã"), max_length=10, blank=True)
    agency = models.ForeignKey(Agency, verbose_name=_("cơ quan"), on_delete=models.CASCADE, related_name="rules")
    is_demo = models.BooleanField(_("dữ liệu mẫu"), default=False)

    class Meta:
        verbose_name = _("quy tắc chuyển xử lý")
        verbose_name_plural = _("quy tắc chuyển xử lý")
        ordering = ["category", "commune_code"]
        constraints = [models.UniqueConstraint(fields=["category", "commune_code"], name="routing_rule_uniq")]

    def __str__(self) -> str:
        return f"{self.category}/{self.commune_code or '*'} → {self.agency_id}"

    @classmethod
    def agency_for(cls, category: str, commune_code: str) -> Agency | None:
        """The agency for a category in a commune: the commune's own rule first, then the district rule."""
        rules = cls.objects.filter(category=category, commune_code__in=[commune_code, ""]).select_related("agency")
        best = sorted(rules, key=lambda r: r.commune_code == "")
        return best[0].agency if best else None


class CategoryDeadline(models.Model):
    """Days allowed to resolve a petition of a category (falls back to settings PETITIONS_DEADLINE_DAYS)."""

    category = models.CharField(_("lĩnh vực"), max_length=24, choices=Category.choices, unique=True)
    days = models.PositiveSmallIntegerField(_("số ngày xử lý"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("thời hạn xử lý")
        verbose_name_plural = _("thời hạn xử lý")
        ordering = ["category"]

    def __str__(self) -> str:
        return f"{self.category}: {self.days}"

    @classmethod
    def days_map(cls) -> dict[str, int]:
        """Days for every category in one query (configured rows over settings)."""
        from petitions.conf import conf

        cfg = conf()
        days = {code: int(cfg.deadline_days.get(code, cfg.default_deadline_days)) for code in Category.values}
        days.update(dict(cls.objects.values_list("category", "days")))
        return days

    @classmethod
    def days_for(cls, category: str) -> int:
        """Configured days for a category: the table first, then settings, then 15 days."""
        row = cls.objects.filter(category=category).values_list("days", flat=True).first()
        if row:
            return int(row)
        from petitions.conf import conf

        return int(conf().deadline_days.get(category, conf().default_deadline_days))


class PetitionQuerySet(CommuneQuerySet["Petition"]):
    def open(self) -> Self:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now: dt.datetime | None = None) -> Self:
        """Open petitions past their deadline."""
        return self.open().filter(due_at__lt=now or timezone.now())

    def escalations(self, now: dt.datetime | None = None) -> Self:
        """What a leader must look at: overdue, reopened, or rated poorly by the citizen."""
        now = now or timezone.now()
        return self.filter(
            Q(status__in=OPEN_STATUSES, due_at__lt=now)
            | Q(status__in=OPEN_STATUSES, reopened_count__gt=0)
            | Q(rating__isnull=False, rating__lte=2, status=Status.RESOLVED)
        ).order_by("due_at")

    def for_agency_user(self, user: Any) -> Self:
        return self.filter(agency__members=user)


# Named (not `as_manager()`): a subclass's manager must be declared as a ClassVar to override the base's.
PetitionManager = models.Manager.from_queryset(PetitionQuerySet)


class Petition(SectorFeature):
    dated_by = "received_at"  # the unit valid on the day it was filed (layers/models/base.py)
    tracking_code = models.CharField(_("mã tra cứu"), max_length=20, unique=True, default=new_tracking_code)
    category = models.CharField(_("lĩnh vực"), max_length=24, choices=Category.choices)
    description = models.TextField(_("nội dung"))
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)
    received_at = models.DateTimeField(_("ngày tiếp nhận"), db_index=True, default=timezone.now)
    status = models.CharField(_("trạng thái"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    resolved_at = models.DateTimeField(_("ngày giải quyết"), null=True, blank=True)
    due_at = models.DateTimeField(_("hạn xử lý"), null=True, blank=True)
    # Personal data: never public; the catalog exposes it only to agency staff and leaders. These hold the
    # first reporter; every reporter (also those of merged duplicates) is a PetitionReporter row.
    reporter_name = models.CharField(_("người phản ánh"), max_length=200, blank=True)
    reporter_phone = models.CharField(_("điện thoại người phản ánh"), max_length=20, blank=True)
    reporter_email = models.EmailField(_("email người phản ánh"), blank=True)

    # Workflow
    version = models.PositiveIntegerField(_("phiên bản"), default=1)
    source = models.CharField(_("kênh tiếp nhận"), max_length=10, choices=Source.choices, default=Source.WEB)
    agency = models.ForeignKey(
        Agency, verbose_name=_("cơ quan xử lý"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cán bộ xác minh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="petitions_to_verify",
    )
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("trùng với"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    public_note = models.TextField(_("ghi chú công khai"), blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("số lần mở lại"), default=0)
    rating = models.PositiveSmallIntegerField(
        _("đánh giá"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.TextField(_("nhận xét của người dân"), blank=True)
    # Open311: the token handed back on POST, and the address text as sent.
    token = models.CharField(_("token"), max_length=32, unique=True, default=new_token)
    # Proof of having filed the petition (the tracking code is public): only its digest is kept; the secret
    # is shown once, on the filer's receipt. Rating the resolution needs it.
    receipt_hash = models.CharField(_("mã bí mật biên nhận (băm)"), max_length=64, default=unknown_receipt)
    address = models.CharField(_("địa chỉ"), max_length=300, blank=True)
    location_approximate = models.BooleanField(_("vị trí gần đúng"), default=False)
    # Set by an officer on the desk (petitions/views/desk.py recategorise): a label the triage model learns from.
    urgency = models.CharField(_("mức khẩn"), max_length=8, choices=Urgency.choices, blank=True, default="")

    # Spatial context, attached at intake (petitions.intake).
    land_parcel = models.ForeignKey(
        "layers.LandParcel",
        verbose_name=_("thửa đất"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    planning_zone = models.ForeignKey(
        "layers.PlanningZone",
        verbose_name=_("khu quy hoạch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    nearest_school = models.ForeignKey(
        "layers.School",
        verbose_name=_("trường gần nhất"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    nearest_school_m = models.FloatField(_("khoảng cách tới trường (m)"), null=True, blank=True)
    nearest_health = models.ForeignKey(
        "layers.HealthFacility",
        verbose_name=_("cơ sở y tế gần nhất"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    nearest_health_m = models.FloatField(_("khoảng cách tới cơ sở y tế (m)"), null=True, blank=True)

    objects: ClassVar[PetitionManager] = PetitionManager()

    # Workflow-managed: these fields change only through a workflow step (petitions.workflow), which checks
    # who may act and records the step in the history. The generic editing API (layers.api.editing) and
    # the admin read this declaration: they refuse raw edits of these fields, and creating or deleting a
    # petition outside intake and the workflow. Category is the workflow's too: routing (assign), the
    # deadline and merging duplicates all key on it.
    workflow_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "tracking_code", "category", "status", "received_at", "resolved_at", "due_at", "source",
            "version", "agency", "field_officer", "duplicate_of", "public_note", "reopened_count",
            "rating", "rating_comment", "token", "receipt_hash", "created_at", "updated_at", "urgency",
        }
    )  # fmt: skip

    class Meta:
        verbose_name = _("phản ánh kiến nghị")
        verbose_name_plural = _("phản ánh kiến nghị")
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                name="petition_resolved_after_received",
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("received_at")),
            ),
            models.CheckConstraint(
                name="petition_rating_range", condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5)
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="petition_status_due_idx")]

    def __str__(self) -> str:
        return self.tracking_code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Still open after its deadline."""
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    @property
    def open311_status(self) -> str:
        return "closed" if self.status in CLOSED_STATUSES else "open"

    def issue_receipt(self) -> str:
        """A new receipt secret for the filer (returned once, only its digest kept); the caller saves."""
        secret = new_receipt_secret()
        self.receipt_hash = receipt_digest(secret)
        return secret

    def receipt_matches(self, secret: str | None) -> bool:
        """Is this the secret of the petition's receipt (compared in constant time)?"""
        return bool(secret) and hmac.compare_digest(receipt_digest(secret or ""), self.receipt_hash)

    def public_face_visible_to(self, user: Any) -> bool:
        """May the user see what the petition shows the public (its point, public fields, photo copies)? The
        catalog's layers over petitions decide (petitions.layer.readable_fields), with the user's commune
        scope, as for their features."""
        from gis_ioc import permissions
        from petitions.layer import readable_fields

        return readable_fields(user) is not None and permissions.can_view_commune(user, self.commune_code)

    def workflow_url(self) -> str:
        """Where a step of this petition's workflow is taken (the JSON transition endpoint)."""
        return reverse("petitions:api-transition", args=[self.tracking_code])

    def set_deadline(self) -> None:
        """Deadline from the category's configured days, counted from reception."""
        self.due_at = self.received_at + dt.timedelta(days=CategoryDeadline.days_for(self.category))


class PetitionReporter(models.Model):
    """One citizen who reported the problem; merging duplicates moves these rows, so nobody is lost."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="reporters")
    name = models.CharField(_("họ tên"), max_length=200, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    # The petition the citizen originally filed (their tracking code keeps working after a merge).
    original_petition = models.ForeignKey(Petition, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reported_at = models.DateTimeField(_("thời điểm phản ánh"), default=timezone.now)

    class Meta:
        verbose_name = _("người phản ánh")
        verbose_name_plural = _("người phản ánh")
        ordering = ["reported_at", "id"]


class PetitionEvent(models.Model):
    """One step of a petition's history: who did what, when, with which note. Never edited."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("thao tác"), max_length=20)
    from_status = models.CharField(_("từ trạng thái"), max_length=12, blank=True)
    to_status = models.CharField(_("sang trạng thái"), max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("người thực hiện"), max_length=200, blank=True)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("thời điểm"), default=timezone.now, db_index=True)
    note = models.TextField(_("ghi chú"), blank=True)
    is_public = models.BooleanField(_("công khai"), default=True)

    class Meta:
        verbose_name = _("lịch sử xử lý")
        verbose_name_plural = _("lịch sử xử lý")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"petitions/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{filename}"


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def citizen_photos(self) -> AttachmentQuerySet:
        """Photos sent with the petition (not an officer's field-report photos, which are never public)."""
        return self.filter(report__isnull=True)


class Attachment(models.Model):
    """A photo: the original (with EXIF: entitled staff only), a copy without EXIF and a thumbnail, all
    served through the photo view (petitions.views.citizen.attachment) by `key`, never by id or file path.

    Who sees what (`viewable_by`): the copies of a citizen's photo follow the petition's public face (the
    catalog's petitions layer and the viewer's commune scope); a field-report photo and every original
    need the right to the petition's private data (gis_ioc.permissions.can_view_petition_private)."""

    # Unguessable address of the photo in URLs (ids are sequential and would let anyone walk them).
    key = models.UUIDField(_("mã ảnh"), unique=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(Petition, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    report = models.ForeignKey(
        "FieldReport", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    original = models.FileField(_("ảnh gốc"), upload_to=_attachment_path, max_length=200)
    public = models.FileField(_("ảnh công khai"), upload_to=_attachment_path, max_length=200)
    thumbnail = models.FileField(_("ảnh thu nhỏ"), upload_to=_attachment_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    taken_at = models.DateTimeField(_("thời điểm chụp (EXIF)"), null=True, blank=True)
    exif_location = models.PointField(_("vị trí chụp (EXIF)"), srid=4326, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("ảnh đính kèm")
        verbose_name_plural = _("ảnh đính kèm")
        ordering = ["id"]

    def viewable_by(self, user: Any, kind: str) -> bool:
        """May the user get this copy ("original", "public" or "thumb") of the photo?"""
        from gis_ioc import permissions

        report = self.report
        if report is None:
            if kind in ("public", "thumb"):
                return self.petition is not None and self.petition.public_face_visible_to(user)
            petition = self.petition
        elif report.petition_id is None and self.petition_id is None:
            # An officer's report about no petition: judged as a petition of the report's commune that this
            # officer verifies (his own photos, leaders and agency staff in scope, administrators).
            subject = SimpleNamespace(commune_code=report.commune_code, field_officer_id=report.officer_id)
            return permissions.can_view_petition_private(user, subject)
        else:
            petition = self.petition if self.petition_id is not None else report.petition
        return petition is not None and permissions.can_view_petition_private(user, petition)


class FieldReport(models.Model):
    """An officer's on-site report. `client_uuid` is generated on the phone: a retried sync is the same report."""

    class Outcome(models.TextChoices):
        NONE = "", _("Chỉ ghi nhận")
        VERIFIED = "verified", _("Xác minh đúng")
        REJECTED = "rejected", _("Không đúng thực tế")

    client_uuid = models.UUIDField(_("mã báo cáo (thiết bị)"), unique=True)
    content_hash = models.CharField(max_length=64)
    petition = models.ForeignKey(
        Petition, null=True, blank=True, on_delete=models.SET_NULL, related_name="field_reports"
    )
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="field_reports")
    geom = models.PointField(_("vị trí"), srid=4326)
    accuracy_m = models.FloatField(_("độ chính xác (m)"), validators=[MinValueValidator(0)])
    note = models.TextField(_("ghi chú"), blank=True)
    outcome = models.CharField(_("kết quả"), max_length=10, choices=Outcome.choices, blank=True)
    captured_at = models.DateTimeField(_("thời điểm ghi nhận"))
    received_at = models.DateTimeField(_("thời điểm đồng bộ"), auto_now_add=True)
    commune_code = models.CharField(_("mã xã"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("báo cáo hiện trường")
        verbose_name_plural = _("báo cáo hiện trường")
        ordering = ["-captured_at"]
        constraints = [models.CheckConstraint(name="field_report_accuracy_nonneg", condition=Q(accuracy_m__gte=0))]


class ThrottleCounter(models.Model):
    """Requests per client key and time window, shared by every gunicorn process through the database."""

    key = models.CharField(max_length=120)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="throttle_key_window_uniq")]
        indexes = [models.Index(fields=["window_start"], name="throttle_window_idx")]


class TriageModel(models.Model):
    """A trained petition-triage model (petitions/triage.py): its file under the data root and its held-out
    scores; the current one makes the desk's suggestions."""

    created_at = models.DateTimeField(_("huấn luyện lúc"), auto_now_add=True)
    file = models.CharField(_("tệp mô hình"), max_length=300)
    metrics = models.JSONField(_("kết quả đánh giá"), default=dict)
    current = models.BooleanField(_("đang dùng"), default=False)

    class Meta:
        verbose_name = _("mô hình phân loại phản ánh")
        verbose_name_plural = _("mô hình phân loại phản ánh")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} ({self.metrics.get('macro_f1', 0):.2f})"
