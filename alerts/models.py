"""Rules, the alerts they raise, what people did with them, and where notifications went.

One alert model: an alert is raised once per (rule, key) — the key names the subject and the period or
event (`threshold:24931:2026-12-01`, `sla_petition:42`), and a unique constraint makes a second evaluation
of the same data a no-op however many workers race (alerts/evaluate.py inserts with ON CONFLICT DO NOTHING).
Who may see an alert is the same policy as the data behind it: the layers it names (all of them visible)
and its commune (within the user's scope); an alert without a commune is for district-level people only.
"""

from __future__ import annotations

import secrets
from typing import Any, Self

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis_ioc import permissions, roles


class Kind(models.TextChoices):
    THRESHOLD = "threshold", _("Ngưỡng của chỉ tiêu")
    ANOMALY = "anomaly", _("Biến động bất thường")
    SLA_PETITION = "sla_petition", _("Phản ánh quá hạn")
    SLA_DOSSIER = "sla_dossier", _("Hồ sơ quá hạn")
    NEAR_PLACE = "near_place", _("Phản ánh mới gần một địa điểm")


class Severity(models.TextChoices):
    INFO = "info", _("Thông tin")
    WARNING = "warning", _("Cảnh báo")
    CRITICAL = "critical", _("Nghiêm trọng")


class Operator(models.TextChoices):
    GT = "gt", ">"
    GE = "ge", "≥"
    LT = "lt", "<"
    LE = "le", "≤"


COMPARE = {"gt": float.__gt__, "ge": float.__ge__, "lt": float.__lt__, "le": float.__le__}
PERIODS = (("day", _("Ngày")), ("week", _("Tuần")), ("month", _("Tháng")), ("quarter", _("Quý")), ("year", _("Năm")))


class Rule(models.Model):
    """A condition over the platform's data, and who is told when it holds."""

    name = models.CharField(_("tên quy tắc"), max_length=200)
    kind = models.CharField(_("loại"), max_length=16, choices=Kind.choices)
    severity = models.CharField(_("mức độ"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    active = models.BooleanField(_("đang áp dụng"), default=True)
    statistic = models.CharField(_("chỉ tiêu"), max_length=60, blank=True)
    period = models.CharField(_("kỳ"), max_length=8, choices=PERIODS, blank=True)
    operator = models.CharField(_("phép so sánh"), max_length=2, choices=Operator.choices, blank=True)
    value = models.FloatField(_("ngưỡng"), null=True, blank=True)
    category = models.CharField(_("lĩnh vực phản ánh"), max_length=24, blank=True)
    place = models.PointField(_("địa điểm"), srid=4326, null=True, blank=True)
    radius_m = models.FloatField(_("bán kính (m)"), null=True, blank=True)
    communes = ArrayField(
        models.CharField(max_length=10), verbose_name=_("chỉ các xã"), default=list, blank=True,
        help_text=_("Để trống: mọi xã."),
    )  # fmt: skip
    recipient_roles = ArrayField(
        models.CharField(max_length=20), verbose_name=_("vai trò nhận"), default=list, blank=True
    )
    recipient_communes = ArrayField(
        models.CharField(max_length=10), verbose_name=_("xã nhận"), default=list, blank=True,
        help_text=_("Người có vai trò trên và phạm vi gồm một trong các xã này."),
    )  # fmt: skip
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("người nhận"), blank=True, related_name="alert_rules"
    )
    email = models.BooleanField(_("gửi thư điện tử"), default=True)
    webhooks = models.ManyToManyField("alerts.WebhookEndpoint", verbose_name=_("webhook"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now)

    class Meta:
        verbose_name = _("quy tắc cảnh báo")
        verbose_name_plural = _("quy tắc cảnh báo")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertQuerySet(models.QuerySet["Alert"]):
    def visible_to(self, user: Any) -> Self:
        """The alerts this user may see: every layer named visible to him, the commune in his scope; a
        district-wide alert (no commune) only for users without a commune scope."""
        if permissions.is_admin(user):
            return self
        if user is None or not user.is_authenticated:
            return self.none()
        slugs = list(permissions.visible_layers(user).values_list("slug", flat=True))
        # An alert naming no layer (its data is published by none) is for administrators only.
        qs = self.exclude(layer_slugs=[]).filter(layer_slugs__contained_by=slugs)
        scope = permissions.commune_scope(user)
        if scope is None:
            return qs
        return qs.filter(commune_code__in=sorted(scope))

    def open(self) -> Self:
        return self.exclude(status=Alert.Status.RESOLVED)


class Alert(models.Model):
    """A rule that held for one subject (a commune in a period, a petition, a dossier)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Mới")
        ACKNOWLEDGED = "acknowledged", _("Đã tiếp nhận")
        RESOLVED = "resolved", _("Đã xử lý xong")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("quy tắc"))
    key = models.CharField(max_length=200)
    severity = models.CharField(_("mức độ"), max_length=10, choices=Severity.choices)
    commune_code = models.CharField(_("mã xã"), max_length=10, null=True, blank=True)
    geom = models.PointField(srid=4326, null=True, blank=True)
    layer_slugs = ArrayField(models.CharField(max_length=100), default=list)
    message_vi = models.TextField()
    message_en = models.TextField(blank=True)
    value = models.FloatField(null=True, blank=True)
    link = models.CharField(max_length=300, blank=True)
    status = models.CharField(_("trạng thái"), max_length=12, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_alerts",
        verbose_name=_("người phụ trách"),
    )  # fmt: skip
    raised_at = models.DateTimeField(_("phát sinh lúc"), default=timezone.now)

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("cảnh báo")
        verbose_name_plural = _("cảnh báo")
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="alert_once_per_rule_key")]
        indexes = [models.Index(fields=["status", "-raised_at"], name="alert_status_raised_idx")]

    def __str__(self) -> str:
        return self.message_vi

    def message(self, language: str | None = None) -> str:
        """The message in the given language (Vietnamese unless "en" and an English text exists)."""
        return self.message_en if (language or "").startswith("en") and self.message_en else self.message_vi

    def act(self, user: Any, action: str, note: str = "", assignee: Any = None) -> AlertEvent:
        """Acknowledge, assign or resolve (with a note), recording who did it and when."""
        if action == "acknowledge":
            self.status = self.Status.ACKNOWLEDGED
        elif action == "resolve":
            self.status = self.Status.RESOLVED
        elif action == "assign":
            self.assignee = assignee
            if self.status == self.Status.OPEN:
                self.status = self.Status.ACKNOWLEDGED
        elif action == "reopen":
            self.status = self.Status.OPEN
        else:
            raise ValueError(f"unknown action {action!r}")
        self.save(update_fields=["status", "assignee"])
        return self.history.create(actor=user, action=action, note=note, assignee=assignee)


class AlertEvent(models.Model):
    """One step of an alert's history: who did what, when, with which note."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20)
    note = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


def new_secret() -> str:
    return secrets.token_hex(32)


class WebhookEndpoint(models.Model):
    """A receiver of signed alert notifications (a Zalo OA or SMS gateway adaptor, a chat bot...)."""

    name = models.CharField(_("tên"), max_length=100)
    url = models.URLField(_("địa chỉ"), max_length=500)
    secret = models.CharField(
        _("khóa ký"), max_length=128, default=new_secret,
        help_text=_("Bên nhận kiểm tra chữ ký HMAC-SHA256 của nội dung bằng khóa này."),
    )  # fmt: skip
    active = models.BooleanField(_("đang dùng"), default=True)

    class Meta:
        verbose_name = _("điểm nhận webhook")
        verbose_name_plural = _("điểm nhận webhook")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One notification to send (an e-mail to a person, a POST to an endpoint) and what became of it: the
    delivery log. Rows are written in the alert's transaction and sent by procrastinate jobs, so a
    notification queued before a worker or database restart is still sent after it."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Thư điện tử")
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", _("Đang chờ gửi")
        SENT = "sent", _("Đã gửi")
        FAILED = "failed", _("Gửi không được")

    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    address = models.CharField(max_length=500)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lượt gửi thông báo")
        verbose_name_plural = _("nhật ký gửi thông báo")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"], name="delivery_status_idx")]


def rule_editors_q() -> Q:
    """Users who may define rules: administrators and leaders (used by the views and the admin)."""
    return Q(groups__name__in=[roles.ADMINISTRATOR, roles.LEADER]) | Q(is_superuser=True)
