"""Citizen petitions (phản ánh kiến nghị) as georeferenced records."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from layers.models.base import SectorFeature


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


OPEN_STATUSES = [Status.RECEIVED, Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS]


class Petition(SectorFeature):
    tracking_code = models.CharField(_("mã tra cứu"), max_length=20, unique=True)
    category = models.CharField(_("lĩnh vực"), max_length=24, choices=Category.choices)
    description = models.TextField(_("nội dung"))
    geom = models.PointField(_("vị trí"), srid=4326, spatial_index=True)
    received_at = models.DateTimeField(_("ngày tiếp nhận"), db_index=True)
    status = models.CharField(_("trạng thái"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    resolved_at = models.DateTimeField(_("ngày giải quyết"), null=True, blank=True)
    due_at = models.DateTimeField(_("hạn xử lý"), null=True, blank=True)
    # Personal data: never public; the catalog exposes it only to agency staff and leaders.
    reporter_name = models.CharField(_("người phản ánh"), max_length=200, blank=True)
    reporter_phone = models.CharField(_("điện thoại người phản ánh"), max_length=20, blank=True)
    reporter_email = models.EmailField(_("email người phản ánh"), blank=True)

    class Meta:
        verbose_name = _("phản ánh kiến nghị")
        verbose_name_plural = _("phản ánh kiến nghị")
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                name="petition_resolved_after_received",
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("received_at")),
            )
        ]

    def __str__(self) -> str:
        return self.tracking_code
