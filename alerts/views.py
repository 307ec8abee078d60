"""The alert centre (list, map, acknowledge, assign, resolve, history) and the rules page.

Everything a person is shown goes through Alert.objects.visible_to(user): an alert he may not see is a
404, never a 403 (which would confirm it exists). Rules are defined by administrators and leaders.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import notify
from alerts.forms import RuleForm
from alerts.models import Alert, Rule, Severity
from gis_ioc import permissions, roles
from live import client as live_client

LOGIN = "/login/"
ACTIONS = ("acknowledge", "assign", "resolve", "reopen")
MAX_NOTE = 2000
PAGE = 200


def may_edit_rules(user: Any) -> bool:
    """Leaders and administrators set alert rules (the site menu shows the rules page to them alone)."""
    return permissions.is_admin(user) or permissions.has_role(user, roles.LEADER, roles.ADMINISTRATOR)


def _alerts(request: HttpRequest) -> Any:
    qs = Alert.objects.visible_to(request.user).select_related("rule", "assignee")
    status = request.GET.get("status", "")
    if status:
        if status not in Alert.Status.values:
            raise ValueError(_("Trạng thái “%(s)s” không hợp lệ; chọn một trong: %(all)s.")
                             % {"s": status[:30], "all": ", ".join(Alert.Status.values)})  # fmt: skip
        qs = qs.filter(status=status)
    severity = request.GET.get("severity", "")
    if severity:
        if severity not in Severity.values:
            raise ValueError(_("Mức độ “%(s)s” không hợp lệ; chọn một trong: %(all)s.")
                             % {"s": severity[:30], "all": ", ".join(Severity.values)})  # fmt: skip
        qs = qs.filter(severity=severity)
    return qs


def _feature(alert: Alert, language: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": alert.pk,
        "geometry": {"type": "Point", "coordinates": [alert.geom.x, alert.geom.y]} if alert.geom else None,
        "properties": {
            "id": alert.pk,
            "rule": alert.rule.name,
            "kind": alert.rule.kind,
            "severity": alert.severity,
            "status": alert.status,
            "commune_code": alert.commune_code,
            "message": alert.message(language),
            "value": alert.value,
            "assignee": alert.assignee.get_username() if alert.assignee else None,
            "raised_at": alert.raised_at.isoformat(),
        },
    }


@require_GET
def alert_list_api(request: HttpRequest) -> JsonResponse:
    """GET /api/v1/alerts/: the alerts this person may see, as GeoJSON (?status=, ?severity=)."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Cần đăng nhập.")}, status=401)
    try:
        qs = _alerts(request)
    except ValueError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    language = translation.get_language() or "vi"
    return JsonResponse({"type": "FeatureCollection", "features": [_feature(a, language) for a in qs[:PAGE]]})


@require_GET
def alert_detail_api(request: HttpRequest, pk: int) -> JsonResponse:
    """GET /api/v1/alerts/<id>/: one alert with its history."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Cần đăng nhập.")}, status=401)
    alert = get_object_or_404(Alert.objects.visible_to(request.user).select_related("rule", "assignee"), pk=pk)
    data = _feature(alert, translation.get_language() or "vi")
    data["properties"]["history"] = [
        {
            "action": e.action,
            "actor": e.actor.get_username() if e.actor else None,
            "assignee": e.assignee.get_username() if e.assignee else None,
            "note": e.note,
            "at": e.at.isoformat(),
        }
        for e in alert.history.select_related("actor", "assignee")
    ]
    return JsonResponse(data)


def _act_params(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValueError(_("Nội dung gửi lên không phải JSON hợp lệ.")) from None
        if not isinstance(data, dict):
            raise ValueError(_("Nội dung gửi lên phải là một đối tượng JSON."))
        return data
    return request.POST.dict()


@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /alerts/<id>/act/: acknowledge, assign (assignee = username), resolve or reopen, with a note."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Cần đăng nhập.")}, status=401)
    alert = get_object_or_404(Alert.objects.visible_to(request.user), pk=pk)
    wants_json = request.content_type == "application/json" or "json" in request.headers.get("Accept", "")
    try:
        data = _act_params(request)
        action = str(data.get("action", ""))
        if action not in ACTIONS:
            raise ValueError(_("Thao tác “%(a)s” không hợp lệ; chọn một trong: %(all)s.")
                             % {"a": action[:30], "all": ", ".join(ACTIONS)})  # fmt: skip
        note = str(data.get("note") or "")
        if len(note) > MAX_NOTE:
            raise ValueError(_("Ghi chú dài quá %(n)d ký tự.") % {"n": MAX_NOTE})
        assignee = None
        if action == "assign":
            name = str(data.get("assignee") or "")
            assignee = get_user_model().objects.filter(username=name, is_active=True).first()
            # Only someone who may see the alert can be given it (no leak by assignment).
            if assignee is None or not Alert.objects.filter(pk=alert.pk).visible_to(assignee).exists():
                raise ValueError(_("Người phụ trách “%(u)s” không tồn tại hoặc không được xem cảnh báo này.")
                                 % {"u": name[:150]})  # fmt: skip
    except ValueError as exc:
        if wants_json:
            return JsonResponse({"detail": str(exc)}, status=400)
        return render(request, "alerts/refused.html", {"message": str(exc), "alert": alert}, status=400)
    with transaction.atomic():  # the step, its history and the assignee's notification, or none of them
        alert.act(request.user, action, note, assignee)
        notify.changed(alert, request.user, action)
        if action == "assign":
            notify.assigned(alert, request.user, note)
    if wants_json:
        return JsonResponse({"id": alert.pk, "status": alert.status})
    return redirect(f"/alerts/?alert={alert.pk}")


@login_required(login_url=LOGIN)
@require_GET
def centre(request: HttpRequest) -> HttpResponse:
    """The alert centre page: the list, a map of located alerts, one alert's history and actions."""
    try:
        qs = _alerts(request)
    except ValueError as exc:
        return render(request, "alerts/refused.html", {"message": str(exc)}, status=400)
    selected = None
    if request.GET.get("alert", "").isdigit():
        selected = Alert.objects.visible_to(request.user).filter(pk=int(request.GET["alert"])).first()
    language = translation.get_language() or "vi"
    alerts = list(qs[:PAGE])
    context = {
        "alerts": alerts,
        "selected": selected,
        "history": list(selected.history.select_related("actor", "assignee")) if selected else [],
        "statuses": Alert.Status.choices,
        "severities": Severity.choices,
        "status": request.GET.get("status", ""),
        "geojson": {"type": "FeatureCollection", "features": [_feature(a, language) for a in alerts if a.geom]},
        "may_edit_rules": may_edit_rules(request.user),
        "live": live_client.page_config(request),  # new alerts arrive on the live stream (alerts.js)
        # The words the page uses for codes, for the rows the live stream adds or changes (alerts.js).
        "labels": {"status": dict(Alert.Status.choices), "severity": dict(Severity.choices)},
    }
    return live_client.allow_connect(request, render(request, "alerts/centre.html", context))


@login_required(login_url=LOGIN)
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The rules page: the list, and the form creating (or, with an id, editing) one."""
    if not may_edit_rules(request.user):
        raise PermissionDenied(_("Chỉ lãnh đạo và quản trị hệ thống được đặt quy tắc cảnh báo."))
    rule = get_object_or_404(Rule, pk=pk) if pk is not None else Rule(created_by=request.user)  # type: ignore[misc]  # signed in (login_required)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            return redirect("alerts:rules")
        status = 400
    else:
        status = 200
    context = {"form": form, "rule": rule, "rules": Rule.objects.order_by("name")}
    return render(request, "alerts/rules.html", context, status=status)
