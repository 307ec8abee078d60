"""An analysis is a record: what was asked (type, parameters), by whom, how far it got, and what it produced
(a catalog layer and statistics tables). The work itself runs as a procrastinate job (analysis/tasks.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AnalysisQuerySet(models.QuerySet["Analysis"]):
    def unfinished(self) -> AnalysisQuerySet:
        return self.filter(status__in=[Analysis.Status.QUEUED, Analysis.Status.RUNNING])


class Analysis(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Đang chờ")
        RUNNING = "running", _("Đang chạy")
        SUCCEEDED = "succeeded", _("Hoàn thành")
        FAILED = "failed", _("Lỗi")

    type = models.CharField(_("loại phân tích"), max_length=40)
    title = models.CharField(_("tiêu đề"), max_length=200, blank=True)
    parameters = models.JSONField(_("tham số"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người chạy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="analyses",
    )
    status = models.CharField(_("trạng thái"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(_("tiến độ (%)"), default=0)
    message = models.CharField(_("bước hiện tại"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    started_at = models.DateTimeField(_("bắt đầu"), null=True, blank=True)
    finished_at = models.DateTimeField(_("kết thúc"), null=True, blank=True)
    error = models.TextField(_("lỗi"), blank=True)
    runs = models.PositiveIntegerField(_("số lần chạy"), default=0)
    job_id = models.BigIntegerField(_("mã tác vụ"), null=True, blank=True)
    # The worker process running it (host:pid), so a reaper can tell a dead run from a slow one.
    worker = models.CharField(_("tiến trình xử lý"), max_length=100, blank=True)
    result_layer = models.ForeignKey(
        "layers.Layer",
        verbose_name=_("lớp kết quả"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Statistics tables: [{"key", "title_vi", "title_en", "columns": [{"name", "title_vi", "title_en"}], "rows": [{}]}]
    statistics = models.JSONField(_("bảng thống kê"), default=list, blank=True)

    objects = AnalysisQuerySet.as_manager()

    class Meta:
        verbose_name = _("phân tích")
        verbose_name_plural = _("phân tích")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(name="analysis_percent_range", condition=models.Q(percent__lte=100))]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    @property
    def result_table(self) -> str:
        """The table that holds this analysis's result features (the shared naming convention)."""
        return f"analysis_result_{self.pk}"

    @property
    def result_slug(self) -> str:
        return f"analysis-{self.pk}"

    def result_layer_for(self, user: Any) -> Any:
        """The result layer if this user may see it, else None: a layer he may not see is never named."""
        from gis_ioc import permissions

        layer = self.result_layer
        return layer if layer is not None and permissions.can_view_layer(user, layer) else None

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def set_progress(self, percent: int, message: str = "") -> None:
        """Record progress in its own UPDATE so the page sees it while the job runs."""
        self.percent = max(0, min(100, int(percent)))
        self.message = message[:200]
        Analysis.objects.filter(pk=self.pk).update(percent=self.percent, message=self.message)

    def mark_failed(self, reason: str) -> None:
        """End the run as failed with a reason a person can act on."""
        self.status = self.Status.FAILED
        self.error = reason
        self.finished_at = timezone.now()
        Analysis.objects.filter(pk=self.pk).update(status=self.status, error=reason, finished_at=self.finished_at)

    def table(self, key: str) -> dict[str, Any] | None:
        """One statistics table by key."""
        return next((t for t in self.statistics or [] if t.get("key") == key), None)
