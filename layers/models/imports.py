"""Import jobs and saved field mappings: the state of an upload as it goes from preview to committed data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportMapping(models.Model):
    """A reusable field mapping: which column of a file feeds which field of a sector model."""

    name = models.CharField(_("tên"), max_length=100, unique=True)
    target = models.CharField(_("đích"), max_length=100, help_text=_("vd. land-parcels"))
    fields = models.JSONField(_("ánh xạ trường"), default=dict, help_text=_('{"trường đích": "cột trong tệp"}'))
    key_fields = models.JSONField(_("trường khóa"), default=list, blank=True)
    encoding = models.CharField(_("bảng mã"), max_length=20, blank=True)
    srid = models.PositiveIntegerField(_("hệ toạ độ (EPSG)"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("mẫu ánh xạ trường")
        verbose_name_plural = _("mẫu ánh xạ trường")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One upload: its file, the choices made in the preview, the job's progress and its report."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Đã tải lên")
        QUEUED = "queued", _("Chờ xử lý")
        RUNNING = "running", _("Đang nhập")
        SUCCEEDED = "succeeded", _("Hoàn tất")
        FAILED = "failed", _("Thất bại")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    started_at = models.DateTimeField(_("bắt đầu"), null=True, blank=True)
    finished_at = models.DateTimeField(_("kết thúc"), null=True, blank=True)
    original_name = models.CharField(_("tên tệp"), max_length=255)
    file_path = models.CharField(_("tệp lưu"), max_length=500)
    file_size = models.BigIntegerField(_("dung lượng"), default=0)
    status = models.CharField(_("trạng thái"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    percent = models.PositiveSmallIntegerField(_("tiến độ (%)"), default=0)
    message = models.TextField(_("thông báo"), blank=True)
    options = models.JSONField(_("lựa chọn"), default=dict, blank=True)
    preview = models.JSONField(_("xem trước"), default=dict, blank=True)
    report = models.JSONField(_("báo cáo"), default=dict, blank=True)
    rejects_path = models.CharField(_("tệp dòng bị loại"), max_length=500, blank=True)
    layer = models.ForeignKey("layers.Layer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    queue_job_id = models.BigIntegerField(_("mã công việc hàng đợi"), null=True, blank=True)

    class Meta:
        verbose_name = _("lượt nhập dữ liệu")
        verbose_name_plural = _("lượt nhập dữ liệu")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def fail(self, reason: str) -> None:
        """End the job as failed with a reason (its data transaction has been rolled back)."""
        self.status = self.Status.FAILED
        self.message = reason
        self.finished_at = timezone.now()
        self.save(update_fields=["status", "message", "finished_at"])

    def as_dict(self) -> dict[str, Any]:
        """The job as the API and the progress page show it."""
        return {
            "id": self.pk,
            "file": self.original_name,
            "status": self.status,
            "status_display": str(self.get_status_display()),
            "percent": self.percent,
            "message": self.message,
            "options": self.options,
            "report": self.report,
            "layer": self.layer.slug if self.layer is not None else None,
            "rejects_url": f"/api/v1/imports/{self.pk}/rejects" if self.rejects_path else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }
