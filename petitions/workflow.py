"""The petition workflow as a state machine.

received → verified | rejected | duplicate → assigned (to an agency) → in progress → resolved → closed,
with reassigning and reopening. Every step locks the petition row (SELECT … FOR UPDATE), checks the
step is allowed from the current status and by the user (gis_ioc.permissions), bumps `version` and
records a PetitionEvent (who, when, note). Two officers acting at once: the second waits for the lock,
then finds the status changed and gets a Conflict (HTTP 409), never a silent double update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gis_ioc import permissions, roles
from petitions.layer import petition_changed
from petitions.models import Agency, Petition, PetitionEvent, PetitionReporter, RoutingRule, Status


class WorkflowError(Exception):
    """A refused step; `status` is the HTTP status a view should answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(WorkflowError):
    status = 403


class Conflict(WorkflowError):
    status = 409


@dataclass(frozen=True)
class Step:
    sources: frozenset[str]
    target: str
    needs_note: bool = False
    public_note: bool = True


S = Status
STEPS: dict[str, Step] = {
    "verify": Step(frozenset({S.RECEIVED}), S.VERIFIED, public_note=False),
    "reject": Step(frozenset({S.RECEIVED, S.VERIFIED}), S.REJECTED, needs_note=True),
    "mark_duplicate": Step(frozenset({S.RECEIVED, S.VERIFIED}), S.DUPLICATE),
    "assign": Step(frozenset({S.VERIFIED}), S.ASSIGNED, public_note=False),
    "reassign": Step(frozenset({S.ASSIGNED, S.IN_PROGRESS}), S.ASSIGNED, needs_note=True, public_note=False),
    "start": Step(frozenset({S.ASSIGNED}), S.IN_PROGRESS, public_note=False),
    "resolve": Step(frozenset({S.ASSIGNED, S.IN_PROGRESS}), S.RESOLVED, needs_note=True),
    "close": Step(frozenset({S.RESOLVED}), S.CLOSED),
    "reopen": Step(frozenset({S.RESOLVED, S.CLOSED, S.REJECTED}), S.ASSIGNED, needs_note=True),
}

ACTION_LABELS = {
    "receive": gettext_lazy("Tiếp nhận"),
    "verify": gettext_lazy("Xác minh"),
    "reject": gettext_lazy("Từ chối (không hợp lệ)"),
    "mark_duplicate": gettext_lazy("Gộp vào phản ánh trùng"),
    "merge": gettext_lazy("Nhận phản ánh trùng"),
    "assign": gettext_lazy("Chuyển cơ quan xử lý"),
    "reassign": gettext_lazy("Chuyển lại cơ quan khác"),
    "start": gettext_lazy("Bắt đầu xử lý"),
    "resolve": gettext_lazy("Đã giải quyết"),
    "close": gettext_lazy("Đóng"),
    "reopen": gettext_lazy("Mở lại"),
    "rate": gettext_lazy("Người dân đánh giá"),
    "dispatch": gettext_lazy("Giao cán bộ xác minh"),
    "recategorise": gettext_lazy("Xác nhận, sửa lĩnh vực"),
}


def available_actions(user: Any, petition: Petition) -> list[str]:
    """Steps this user may take on the petition now (for buttons; `transition` checks again)."""
    return [
        name
        for name, step in STEPS.items()
        if petition.status in step.sources and permissions.can_act_on_petition(user, petition, name)
    ]


def record(
    petition: Petition,
    action: str,
    from_status: str,
    *,
    actor: Any = None,
    actor_label: str = "",
    note: str = "",
    agency: Agency | None = None,
    is_public: bool = True,
) -> PetitionEvent:
    """Append an event to the petition's history."""
    if actor is not None and getattr(actor, "is_authenticated", False) and not actor_label:
        actor_label = actor.get_full_name() or actor.get_username()
    return PetitionEvent.objects.create(
        petition=petition,
        action=action,
        from_status=from_status,
        to_status=petition.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label[:200],
        agency=agency,
        note=note,
        is_public=is_public,
    )


def transition(
    petition_id: int,
    action: str,
    user: Any,
    note: str = "",
    *,
    agency: Agency | None = None,
    duplicate_of: Petition | None = None,
    expected_version: int | None = None,
) -> Petition:
    """Take one workflow step; raises NotAllowed (403), Conflict (409) or WorkflowError (400)."""
    step = STEPS.get(action)
    if step is None:
        raise WorkflowError(_("Thao tác không tồn tại: %(a)s") % {"a": action})
    note = (note or "").strip()
    if step.needs_note and not note:
        raise WorkflowError(_("Cần ghi chú lý do cho thao tác này."))
    with transaction.atomic():
        ids = sorted({petition_id, duplicate_of.pk} if duplicate_of else {petition_id})
        # Lock in id order so two merges in opposite directions cannot deadlock.
        locked = {p.pk: p for p in Petition.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        petition = locked.get(petition_id)
        if petition is None:
            raise WorkflowError(_("Không tìm thấy phản ánh."))
        if not permissions.can_act_on_petition(user, petition, action):
            raise NotAllowed(_("Bạn không có quyền thực hiện thao tác này với phản ánh %(c)s.") % {"c": petition})
        if expected_version is not None and petition.version != expected_version:
            raise Conflict(
                _("Phản ánh %(c)s vừa được người khác cập nhật (trạng thái: %(s)s). Tải lại trang rồi thử lại.")
                % {"c": petition, "s": petition.get_status_display()}
            )
        if petition.status not in step.sources:
            raise Conflict(
                _("Phản ánh %(c)s đang ở trạng thái “%(s)s”, không thể thực hiện thao tác này.")
                % {"c": petition, "s": petition.get_status_display()}
            )
        from_status = petition.status
        event_agency = _apply(petition, action, user, agency, locked.get(duplicate_of.pk) if duplicate_of else None)
        # Reopening a petition rejected before any assignment sends it back to the start of the queue.
        petition.status = Status.RECEIVED if action == "reopen" and petition.agency_id is None else step.target
        petition.version = F("version") + 1
        petition.save()
        petition.refresh_from_db()
        record(petition, action, from_status, actor=user, note=note, agency=event_agency, is_public=step.public_note)
        if step.public_note and note:
            Petition.objects.filter(pk=petition.pk).update(public_note=note)
            petition.public_note = note
        petition_changed(petition)
        return petition


def _apply(petition: Petition, action: str, user: Any, agency: Agency | None, target: Petition | None) -> Agency | None:
    """The side effects of a step besides the status; returns the agency to record on the event."""
    if action in ("assign", "reassign"):
        chosen = agency or (
            RoutingRule.agency_for(petition.category, petition.commune_code) if action == "assign" else None
        )
        if chosen is None:
            raise WorkflowError(_("Chưa chọn cơ quan xử lý và không có quy tắc chuyển cho lĩnh vực/xã này."))
        if action == "reassign" and chosen.pk == petition.agency_id:
            raise WorkflowError(_("Phản ánh đã thuộc cơ quan này; chọn cơ quan khác."))
        petition.agency = chosen
        return chosen
    if action == "resolve":
        petition.resolved_at = timezone.now()
    elif action == "reopen":
        petition.resolved_at = None
        petition.rating = None
        petition.rating_comment = ""
        petition.reopened_count += 1
    elif action == "mark_duplicate":
        _merge_into(petition, target, user)
    return None


def _merge_into(petition: Petition, target: Petition | None, user: Any) -> None:
    """Mark `petition` a duplicate of `target`, moving every reporter so nobody loses their answer."""
    if target is None:
        raise WorkflowError(_("Cần chọn phản ánh gốc để gộp."))
    while target.duplicate_of_id is not None:  # follow chains to the surviving petition
        target = Petition.objects.select_for_update().get(pk=target.duplicate_of_id)
    if target.pk == petition.pk:
        raise WorkflowError(_("Không thể gộp một phản ánh vào chính nó."))
    if target.status in (Status.REJECTED, Status.DUPLICATE):
        raise WorkflowError(_("Phản ánh gốc %(c)s đã bị từ chối hoặc gộp.") % {"c": target})
    if target.category != petition.category:
        raise WorkflowError(_("Chỉ gộp các phản ánh cùng lĩnh vực."))
    petition.duplicate_of = target
    moved = PetitionReporter.objects.filter(petition=petition).update(petition=target)
    Petition.objects.filter(pk=target.pk).update(version=F("version") + 1)
    PetitionEvent.objects.create(
        petition=target,
        action="merge",
        from_status=target.status,
        to_status=target.status,
        actor=user if getattr(user, "is_authenticated", False) else None,
        actor_label=(user.get_username() if getattr(user, "is_authenticated", False) else ""),
        note=_("Gộp phản ánh %(c)s (%(n)d người phản ánh).") % {"c": petition.tracking_code, "n": moved},
        is_public=False,
    )


def dispatch(petition_id: int, officer: Any, user: Any, note: str = "") -> Petition:
    """A leader sends a field officer to verify on site; the petition appears in that officer's app."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
        if petition is None:
            raise WorkflowError(_("Không tìm thấy phản ánh."))
        if not permissions.can_act_on_petition(user, petition, "dispatch"):
            raise NotAllowed(_("Bạn không có quyền thực hiện thao tác này với phản ánh %(c)s.") % {"c": petition})
        if petition.status not in (Status.RECEIVED, Status.VERIFIED):
            raise Conflict(
                _("Phản ánh %(c)s đang ở trạng thái “%(s)s”, không thể thực hiện thao tác này.")
                % {"c": petition, "s": petition.get_status_display()}
            )
        if not permissions.has_role(officer, roles.FIELD_OFFICER) or not permissions.can_view_commune(
            officer, petition.commune_code
        ):
            raise WorkflowError(_("Người được giao phải là cán bộ hiện trường phụ trách địa bàn này."))
        petition.field_officer = officer
        petition.version = F("version") + 1
        petition.save(update_fields=["field_officer", "version", "updated_at"])
        petition.refresh_from_db()
        label = officer.get_full_name() or officer.get_username()
        record(petition, "dispatch", petition.status, actor=user, note=(note or label), is_public=False)
        return petition


def rate(tracking_code: str, rating: int, comment: str = "", *, receipt: str | None = None) -> Petition:
    """The filer rates the resolution (1–5) once per resolution; a low rating escalates to leaders.

    The tracking code is public, so the filer proves himself with the receipt secret he was given."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise WorkflowError(_("Đánh giá phải từ 1 đến 5 sao."))
    with transaction.atomic():
        petition = Petition.objects.select_for_update().filter(tracking_code=tracking_code).first()
        if petition is None:
            raise WorkflowError(_("Không tìm thấy mã tra cứu."))
        if not petition.receipt_matches(receipt):
            raise NotAllowed(
                _(
                    "Chỉ người gửi phản ánh mới đánh giá được: hãy nhập đúng mã bí mật ghi trên biên nhận "
                    "khi gửi phản ánh (không phải mã tra cứu)."
                )
            )
        if petition.status not in (Status.RESOLVED, Status.CLOSED):
            raise Conflict(_("Chỉ đánh giá được khi phản ánh đã được giải quyết."))
        if petition.rating is not None:
            raise Conflict(_("Phản ánh này đã được đánh giá."))
        petition.rating = rating
        petition.rating_comment = comment.strip()[:2000]
        petition.version = F("version") + 1
        petition.save(update_fields=["rating", "rating_comment", "version", "updated_at"])
        petition.refresh_from_db()
        record(petition, "rate", petition.status, actor_label=_("Người dân"), note=f"{rating}/5")
        return petition
