"""Field reports synced from the officers' offline app, idempotent by the client-generated UUID.

The phone may send the same report many times (a timeout after the server committed, a retry loop, two
tabs). The report's UUID is UNIQUE in PostgreSQL and inserted with INSERT … ON CONFLICT DO NOTHING, so
concurrent retries serialise on the unique index: exactly one insert wins, every other attempt finds
the stored row. Same UUID + same content → the stored report (200); same UUID + different content →
409, because silently keeping either version would lose what the officer saw.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gis_ioc import permissions, roles
from petitions import intake, workflow
from petitions.attachments import ProcessedImage, process_uploads, save_attachment
from petitions.conf import conf
from petitions.models import FieldReport, Petition


class ReportError(ValueError):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


@dataclass
class SyncResult:
    report: FieldReport
    created: bool
    transition_error: str = ""


def _number(data: Any, name: str) -> float:
    try:
        return float(str(data.get(name, "")).strip())
    except ValueError:
        raise ReportError(400, name, _("%(f)s phải là số.") % {"f": name}) from None


def content_hash(fields: dict[str, Any], photos: list[ProcessedImage]) -> str:
    """A fingerprint of what the officer reported: the fields plus every photo's bytes."""
    canonical = json.dumps({**fields, "photos": sorted(p.sha256 for p in photos)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse(user: Any, data: Any, files: list[Any]) -> tuple[dict[str, Any], list[ProcessedImage], Petition | None]:
    """Validate a sync submission before anything is written."""
    try:
        client_uuid = uuid.UUID(str(data.get("uuid", "")))
    except ValueError:
        raise ReportError(400, "uuid", _("uuid không hợp lệ (cần UUID do thiết bị tạo).")) from None
    point = intake.parse_point(data.get("lat"), data.get("lon"))
    if str(data.get("accuracy", "")).strip() == "":
        raise ReportError(400, "accuracy", _("Thiếu độ chính xác GPS (accuracy, mét)."))
    accuracy = _number(data, "accuracy")
    cfg = conf()
    if accuracy < 0:
        raise ReportError(400, "accuracy", _("Độ chính xác không thể âm."))
    if accuracy > cfg.max_accuracy_m:
        raise ReportError(
            400,
            "accuracy",
            _("Vị trí GPS quá kém chính xác (±%(a).0f m, tối đa ±%(m).0f m). Ra chỗ thoáng và đo lại.")
            % {"a": accuracy, "m": cfg.max_accuracy_m},
        )
    outcome = str(data.get("outcome", "") or "")
    if outcome not in FieldReport.Outcome.values:
        raise ReportError(400, "outcome", _("Kết quả xác minh không hợp lệ."))
    captured = parse_datetime(str(data.get("captured_at", "")))
    if captured is None:
        raise ReportError(400, "captured_at", _("captured_at phải là thời điểm ISO 8601."))
    if timezone.is_naive(captured):
        captured = timezone.make_aware(captured)
    petition = None
    code = str(data.get("petition", "") or "").strip()
    if code:
        petition = Petition.objects.filter(tracking_code=code).first()
        if petition is None:
            raise ReportError(404, "petition", _("Không tìm thấy phản ánh %(c)s.") % {"c": code[:30]})
        if not permissions.can_view_commune(user, petition.commune_code):
            raise ReportError(403, "petition", _("Phản ánh này nằm ngoài địa bàn của bạn."))
    if outcome and petition is None:
        raise ReportError(400, "outcome", _("Kết quả xác minh cần gắn với một phản ánh."))
    commune = intake.commune_at(point)
    note = intake.clean_text(data.get("note", ""), 5000)
    photos = process_uploads(files)
    fields = {
        "uuid": str(client_uuid),
        "petition": code,
        "lat": round(point.y, 7),
        "lon": round(point.x, 7),
        "accuracy": round(accuracy, 2),
        "note": note,
        "outcome": outcome,
        "captured_at": captured.isoformat(),
        "commune": commune.code,
    }
    return fields, photos, petition


def sync_report(user: Any, data: Any, files: list[Any]) -> SyncResult:
    """Store a report once; replays return it; a different report under the same UUID is a 409."""
    if not permissions.has_role(user, roles.FIELD_OFFICER):
        raise ReportError(403, "", _("Chỉ cán bộ hiện trường được gửi báo cáo."))
    fields, photos, petition = parse(user, data, files)
    digest = content_hash(fields, photos)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO petitions_fieldreport
                    (client_uuid, content_hash, petition_id, officer_id, geom, accuracy_m, note, outcome,
                     captured_at, received_at, commune_code)
                VALUES (%s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, %s, now(), %s)
                ON CONFLICT (client_uuid) DO NOTHING
                RETURNING id
                """,
                [
                    fields["uuid"],
                    digest,
                    petition.pk if petition else None,
                    user.pk,
                    fields["lon"],
                    fields["lat"],
                    fields["accuracy"],
                    fields["note"],
                    fields["outcome"],
                    parse_datetime(fields["captured_at"]),
                    fields["commune"],
                ],
            )
            row = cursor.fetchone()
        if row is None:
            existing = FieldReport.objects.get(client_uuid=fields["uuid"])
            if existing.content_hash != digest or existing.officer_id != user.pk:
                raise ReportError(
                    409, "uuid", _("Mã báo cáo này đã được dùng cho một báo cáo khác; thiết bị cần tạo mã mới.")
                )
            return SyncResult(existing, created=False)
        report = FieldReport.objects.get(pk=row[0])
        for img in photos:
            save_attachment(img, report=report, petition=petition)
        transition_error = ""
        if petition is not None and fields["outcome"]:
            action = "verify" if fields["outcome"] == "verified" else "reject"
            try:
                with transaction.atomic():
                    workflow.transition(petition.pk, action, user, note=fields["note"] or _("Xác minh tại hiện trường"))
            except workflow.WorkflowError as exc:
                # The report is evidence and is kept; only the status change is refused.
                transition_error = exc.message
        return SyncResult(report, created=True, transition_error=transition_error)
