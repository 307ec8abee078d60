"""The staff desk: petition list, detail with history and context, workflow steps, escalations, CSV."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from procrastinate.exceptions import AlreadyEnqueued

from gis_ioc import permissions, roles
from gis_ioc.lib import tabular
from layers.models import Layer
from petitions import triage, workflow
from petitions.jsonutil import json_response
from petitions.models import HEAVY, Agency, Category, Petition, PetitionReporter, Status, Urgency

LOGIN = "/field/login/"


def _staff(request: HttpRequest) -> None:
    if not permissions.can_manage_petitions(request.user):
        raise PermissionDenied(_("Chỉ cán bộ được mở bàn làm việc phản ánh."))


def _queryset(request: HttpRequest) -> Any:
    qs = Petition.objects.select_related("commune", "agency").defer(*HEAVY)
    qs = permissions.scope_queryset(request.user, qs)
    params = request.GET
    if params.get("status") in Status.values:
        qs = qs.filter(status=params["status"])
    if params.get("category") in Category.values:
        qs = qs.filter(category=params["category"])
    if params.get("urgency") in Urgency.values:
        qs = qs.filter(urgency=params["urgency"])
    if params.get("agency", "").isdigit():
        qs = qs.filter(agency_id=int(params["agency"]))
    if params.get("mine") == "1" and request.user.is_authenticated:  # always signed in here: _staff checked
        qs = qs.filter(agency__members=request.user)
    if params.get("overdue") == "1":
        qs = qs.overdue()
    if params.get("q"):
        qs = qs.filter(tracking_code__icontains=params["q"].strip()[:20])
    return qs.order_by("-received_at")


@login_required(login_url=LOGIN)
def desk(request: HttpRequest) -> HttpResponse:
    """Petitions the user may see, filtered and paginated."""
    _staff(request)
    page = Paginator(_queryset(request), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "statuses": Status.choices,
        "categories": Category.choices,
        "urgencies": Urgency.choices,
        "agencies": Agency.objects.all(),
        "params": request.GET,
        "now": timezone.now(),
        "is_leader": permissions.has_role(request.user, roles.LEADER),
    }
    return render(request, "petitions/desk.html", context)


def _may_recategorise(user: Any, petition: Petition) -> bool:
    """Confirming or correcting a category is a step on the petition, for those who may verify it."""
    return permissions.can_act_on_petition(user, petition, "verify") or permissions.has_role(user, roles.LEADER)


@login_required(login_url=LOGIN)
@require_POST
def recategorise(request: HttpRequest, code: str) -> HttpResponse:
    """POST category=… [urgency=…]: the officer confirms the category (the same) or corrects it, and judges the
    urgency; either way the petition becomes a labelled example for the next training of the triage model."""
    _staff(request)
    petition = get_object_or_404(Petition, tracking_code=code)
    if not permissions.can_view_commune(request.user, petition.commune_code):
        raise PermissionDenied(_("Phản ánh nằm ngoài địa bàn của bạn."))
    if not _may_recategorise(request.user, petition):
        raise PermissionDenied(_("Tài khoản này không được sửa lĩnh vực của phản ánh."))
    category = request.POST.get("category", "")
    urgency = request.POST.get("urgency", petition.urgency)
    refused = None
    if category not in Category.values:
        refused = _("Lĩnh vực không hợp lệ: “%(v)s”.") % {"v": category[:40]}
    elif urgency not in Urgency.values and urgency != petition.urgency:
        refused = _("Mức khẩn không hợp lệ: “%(v)s” (chọn Không gấp, Bình thường hoặc Khẩn).") % {"v": urgency[:40]}
    if refused:
        return render(request, "petitions/refused.html", {"message": refused, "back": f"/petitions/desk/{code}/"},
                      status=400)  # fmt: skip
    before, urgency_before = petition.category, petition.urgency
    with transaction.atomic():
        Petition.objects.filter(pk=petition.pk).update(category=category, urgency=urgency)
        petition.category, petition.urgency = category, urgency
        notes = [
            _("Giữ lĩnh vực %(c)s.") % {"c": Category(category).label}
            if before == category
            else _("Sửa lĩnh vực: %(a)s → %(b)s.") % {"a": Category(before).label, "b": Category(category).label}
        ]
        if urgency and urgency != urgency_before:
            notes.append(_("Mức khẩn: %(u)s.") % {"u": Urgency(urgency).label})
        workflow.record(
            petition, triage.RECATEGORISE, petition.status, actor=request.user, note=" ".join(notes), is_public=False
        )
        Layer.objects.record_change(Petition, [petition.geom])
    return redirect("petitions:desk-detail", code)


def _scores(m: dict[str, Any]) -> dict[str, Any]:
    """One model's held-out scores and its confusion matrix, labelled for the page."""
    labels = [triage.label_of(c) for c in m["labels"]]
    matrix = [
        {"label": label, "cells": [{"n": n, "diagonal": i == j} for j, n in enumerate(line)], "total": sum(line)}
        for i, (label, line) in enumerate(zip(labels, m["confusion"], strict=True))
    ]
    return {"m": m, "labels": labels, "matrix": matrix}


@login_required(login_url=LOGIN)
def triage_page(request: HttpRequest) -> HttpResponse:
    """The triage model's page: its held-out scores against the baseline, the confusion matrix, and a button
    that trains a new one as a job."""
    _staff(request)
    queued = False
    if request.method == "POST":
        if not permissions.has_role(request.user, roles.LEADER, roles.ADMINISTRATOR):
            raise PermissionDenied(_("Chỉ lãnh đạo và quản trị hệ thống được huấn luyện lại mô hình."))
        from petitions.tasks import train_triage

        with contextlib.suppress(AlreadyEnqueued):
            train_triage.defer()
        queued = True
    row = triage.current()
    context: dict[str, Any] = {"row": row, "queued": queued, "labelled": len(triage.labelled()[0]),
                               "minimum": triage.MIN_LABELLED}  # fmt: skip
    if row is not None:
        context["category"] = _scores(row.metrics)
        urgency = row.metrics.get("urgency") or {}
        context["urgency"] = _scores(urgency) if "confusion" in urgency else None
        context["urgency_missing"] = urgency.get("missing", "")
    context["judged"] = Petition.objects.exclude(urgency="").count()
    return render(request, "petitions/triage.html", context)


@login_required(login_url=LOGIN)
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """One petition: context, history, reporters (when entitled), duplicates, the steps available."""
    _staff(request)
    petition = get_object_or_404(
        Petition.objects.select_related(
            "commune", "agency", "land_parcel", "planning_zone", "nearest_school", "nearest_health", "duplicate_of"
        ),
        tracking_code=code,
    )
    if not permissions.can_view_commune(request.user, petition.commune_code):
        raise PermissionDenied(_("Phản ánh nằm ngoài địa bàn của bạn."))
    private = permissions.can_view_petition_private(request.user, petition)
    context = {
        "p": petition,
        "events": [
            (e, workflow.ACTION_LABELS.get(e.action, e.action))
            for e in petition.events.select_related("agency").order_by("at", "id")
        ],
        "reporters": PetitionReporter.objects.filter(petition=petition) if private else None,
        "action_names": (names := workflow.available_actions(request.user, petition)),
        "actions": [(a, workflow.ACTION_LABELS[a]) for a in names],
        "agencies": Agency.objects.all(),
        # Near in place and time, same words (petitions/triage.py), among the petitions this user may see.
        "similar": triage.similar(petition, request.user),
        "suggestion": triage.suggest(petition.description, petition.commune_code),
        "categories": Category.choices,
        "urgencies": Urgency.choices,
        "may_recategorise": _may_recategorise(request.user, petition),
        "photos": petition.attachments.all(),
        "officers": _officers(request.user, petition),
        "reports": petition.field_reports.select_related("officer"),
        "error": request.GET.get("error", ""),
    }
    return render(request, "petitions/detail.html", context)


@login_required(login_url=LOGIN)
@require_POST
def act(request: HttpRequest, code: str) -> HttpResponse:
    """A workflow step from the detail page's buttons (errors come back to the page, never a 500)."""
    petition = get_object_or_404(Petition, tracking_code=code)
    try:
        _transition(request.user, petition, request.POST)
    except workflow.WorkflowError as exc:
        context = {"message": exc.message, "back": f"/petitions/desk/{code}/"}
        return render(request, "petitions/refused.html", context, status=exc.status)
    return redirect("petitions:desk-detail", code=code)


def _officers(user: Any, petition: Petition) -> list[Any]:
    """Field officers a leader may send to this petition (empty when the user may not dispatch)."""
    from django.contrib.auth.models import User

    if petition.status not in (Status.RECEIVED, Status.VERIFIED):
        return []
    if not permissions.can_act_on_petition(user, petition, "dispatch"):
        return []
    candidates = User.objects.filter(groups__name=roles.FIELD_OFFICER, is_active=True).order_by("username")
    return [u for u in candidates if permissions.can_view_commune(u, petition.commune_code)]


def _transition(user: Any, petition: Petition, data: Any) -> Petition:
    agency = None
    if str(data.get("agency", "")).isdigit():
        agency = Agency.objects.filter(pk=int(data["agency"])).first()
    target = None
    if data.get("duplicate_of"):
        target = Petition.objects.filter(tracking_code=str(data["duplicate_of"]).strip().upper()).first()
        if target is None:
            raise workflow.WorkflowError(
                _("Không tìm thấy phản ánh gốc %(c)s.") % {"c": str(data["duplicate_of"])[:20]}
            )
    if data.get("action") == "dispatch":
        from django.contrib.auth.models import User

        officer = (
            User.objects.filter(pk=int(data["officer"])).first() if str(data.get("officer", "")).isdigit() else None
        )
        if officer is None:
            raise workflow.WorkflowError(_("Chọn cán bộ hiện trường để giao."))
        return workflow.dispatch(petition.pk, officer, user, str(data.get("note", "")))
    version = data.get("version")
    expected = int(version) if str(version or "").isdigit() else None
    return workflow.transition(
        petition.pk,
        str(data.get("action", "")),
        user,
        str(data.get("note", "")),
        agency=agency,
        duplicate_of=target,
        expected_version=expected,
    )


@require_http_methods(["POST"])
def api_transition(request: HttpRequest, code: str) -> HttpResponse:
    """POST /api/v1/petitions/{code}/transition/ {action, note, agency, duplicate_of, version} → 200/4xx JSON."""
    if not request.user.is_authenticated:
        return json_response({"error": _("Cần đăng nhập.")}, status=401)
    petition = Petition.objects.filter(tracking_code=code).first()
    if petition is None:
        return json_response({"error": _("Không tìm thấy phản ánh.")}, status=404)
    try:
        data = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
        if not isinstance(data, dict) and not hasattr(data, "get"):
            raise ValueError
    except ValueError:
        return json_response({"error": _("Dữ liệu JSON không hợp lệ.")}, status=400)
    try:
        updated = _transition(request.user, petition, data)
    except workflow.WorkflowError as exc:
        return json_response({"error": exc.message}, status=exc.status)
    return json_response(
        {
            "tracking_code": updated.tracking_code,
            "status": updated.status,
            "version": updated.version,
            "agency": updated.agency.name if updated.agency else None,
        }
    )


def _escalation_rows(request: HttpRequest) -> list[dict[str, Any]]:
    now = timezone.now()
    qs = permissions.scope_queryset(
        request.user, Petition.objects.escalations(now).select_related("agency", "commune").defer(*HEAVY)
    )
    rows = []
    for p in qs[:500]:
        reasons = []
        if p.is_open and p.due_at and p.due_at < now:
            reasons.append(_("Quá hạn %(d)d ngày") % {"d": (now - p.due_at).days})
        if p.is_open and p.reopened_count:
            reasons.append(_("Đã mở lại %(n)d lần") % {"n": p.reopened_count})
        if p.rating is not None and p.rating <= 2:
            reasons.append(_("Người dân đánh giá %(r)d/5") % {"r": p.rating})
        rows.append({"p": p, "reasons": reasons})
    return rows


@login_required(login_url=LOGIN)
def escalations(request: HttpRequest) -> HttpResponse:
    """Leaders' list: overdue, reopened and poorly rated petitions."""
    if not permissions.has_role(request.user, roles.LEADER):
        raise PermissionDenied(_("Danh sách cần xử lý gấp dành cho lãnh đạo."))
    return render(request, "petitions/escalations.html", {"rows": _escalation_rows(request)})


def api_escalations(request: HttpRequest) -> HttpResponse:
    """The escalation list as JSON for the leaders' dashboard."""
    if not permissions.has_role(request.user, roles.LEADER):
        return json_response({"error": _("Danh sách cần xử lý gấp dành cho lãnh đạo.")}, status=403)
    rows = [
        {
            "tracking_code": r["p"].tracking_code,
            "category": r["p"].category,
            "status": r["p"].status,
            "commune_code": r["p"].commune_code,
            "agency": r["p"].agency.name if r["p"].agency else None,
            "due_at": r["p"].due_at.isoformat() if r["p"].due_at else None,
            "reasons": [str(x) for x in r["reasons"]],
        }
        for r in _escalation_rows(request)
    ]
    return json_response({"count": len(rows), "results": rows})


@login_required(login_url=LOGIN)
def export_csv(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV (UTF-8 with BOM for Excel); personal columns only for entitled users."""
    _staff(request)
    private = permissions.has_role(request.user, roles.LEADER, roles.AGENCY_STAFF)
    header = [
        "tracking_code",
        "category",
        "status",
        "commune_code",
        "received_at",
        "due_at",
        "resolved_at",
        "agency",
        "description",
        "lat",
        "lon",
    ]
    writer = tabular.CSVWriter(header + (["reporter_name", "reporter_phone"] if private else []))
    for p in _queryset(request)[:20000]:
        row = [
            p.tracking_code,
            p.category,
            p.status,
            p.commune_code,
            p.received_at.isoformat(),
            p.due_at.isoformat() if p.due_at else None,
            p.resolved_at.isoformat() if p.resolved_at else None,
            p.agency.name if p.agency else None,
            p.description,
            round(p.geom.y, 6),
            round(p.geom.x, 6),
        ]
        if private:
            row += [p.reporter_name, p.reporter_phone]
        writer.append(row)
    response = HttpResponse(writer.getvalue(), content_type=writer.content_type)
    response["Content-Disposition"] = 'attachment; filename="phan-anh.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
