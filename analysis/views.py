"""Web pages: /analyses/ (start an analysis, list them with live progress) and /analyses/<id>/ (result)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from analysis import registry, service
from analysis.models import Analysis
from analysis.serializers import analysis_json
from gis_ioc import jobqueue, permissions
from gis_ioc.models import AdminUnit

PAGE_ROWS = 500  # rows of a statistics table shown on the page (the API and the layer have them all)
ORDER = ("coverage", "hotspots", "zoning_compare", "parcel_conflicts", "zonal", "trends")


def _types() -> list[registry.AnalysisType]:
    kinds = {k.code: k for k in registry.all_types()}
    return [kinds[c] for c in ORDER if c in kinds] + [k for c, k in kinds.items() if c not in ORDER]


def _forms(data: Any = None, active: str = "") -> list[dict[str, Any]]:
    out = []
    for kind in _types():
        bound = data if kind.code == active else None
        form = kind.form_class(data=bound, prefix=kind.code)
        form.fields.pop("communes", None)  # one shared commune picker on the page
        out.append({"kind": kind, "form": form, "active": kind.code == active})
    return out


def _params_from_post(request: HttpRequest, code: str) -> dict[str, Any]:
    kind = registry.get(code)
    params: dict[str, Any] = {}
    for name, field in kind.form_class.base_fields.items():
        key = f"{code}-{name}"
        if name == "communes":
            chosen = request.POST.getlist("communes")
            params[name] = chosen or None
        elif isinstance(field, forms.MultipleChoiceField):
            params[name] = request.POST.getlist(key)
        elif isinstance(field, forms.BooleanField):
            params[name] = key in request.POST
        elif key in request.POST:
            params[name] = request.POST[key]
    return params


def _communes(user: Any) -> list[AdminUnit]:
    qs = AdminUnit.objects.current().communes().order_by("name")
    return list(permissions.scope_queryset(user, qs, field="code"))


@login_required
@require_http_methods(["GET", "POST"])
def analysis_list(request: HttpRequest) -> HttpResponse:
    """The list of analyses with progress, and the forms that start one."""
    if not service.can_view(request.user):
        raise PermissionDenied
    errors: list[str] = []
    active = request.GET.get("type", "coverage")
    status_code = 200
    if request.method == "POST":
        active = request.POST.get("type", "")
        try:
            analysis = service.start(request.user, active, _params_from_post(request, active))
            return redirect("analysis-page", analysis.pk)
        except KeyError:
            errors.append(_("Chọn một loại phân tích."))
        except forms.ValidationError as exc:
            errors.extend(_messages(exc))
        status_code = 400
    analyses = list(Analysis.objects.select_related("created_by", "result_layer")[:100])
    for a in analyses:
        a.shown_layer = a.result_layer_for(request.user)  # type: ignore[attr-defined]
    context = {
        "analyses": analyses,
        "forms": _forms(request.POST if request.method == "POST" else None, active),
        "errors": errors,
        "can_run": service.can_run(request.user),
        "communes": _communes(request.user),
        "chosen_communes": request.POST.getlist("communes"),
        "unfinished": [a.pk for a in analyses if not a.is_finished],
        # Said before anyone waits in vain: without a worker, a started analysis stays queued.
        "no_worker": jobqueue.no_worker_notice(),
    }
    return render(request, "analysis/list.html", context, status=status_code)


def _messages(exc: forms.ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{k}: {m}" for k, v in exc.message_dict.items() for m in v]
    out = []
    for m in exc.messages:
        out.append(str(m))
    if exc.messages and isinstance(exc.error_list[0].message, dict):
        out = [f"{k}: {e['message']}" for k, v in exc.error_list[0].message.items() for e in v]
    return out


@login_required
def analysis_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One analysis: parameters, progress, statistics tables and the result layer on a map."""
    if not service.can_view(request.user):
        raise PermissionDenied
    analysis = get_object_or_404(Analysis.objects.select_related("created_by", "result_layer"), pk=pk)
    data = analysis_json(analysis, request.user, detail=True)
    lang = "en" if translation.get_language() == "en" else "vi"
    for t in data["statistics"]:
        t["title"] = t.get(f"title_{lang}") or t.get("title_vi")
        for c in t["columns"]:
            c["title"] = c.get(f"title_{lang}") or c.get("title_vi")
        names = [c["name"] for c in t["columns"]]
        t["cells"] = [[_cell(r.get(n)) for n in names] for r in t["rows"][:PAGE_ROWS]]
        t["total_rows"] = max(t.get("total_rows") or 0, len(t["rows"]))
    return render(
        request,
        "analysis/detail.html",
        {
            "a": analysis,
            "layer": analysis.result_layer_for(request.user),
            "data": data,
            "params": _param_rows(analysis),
            "can_run": service.can_run(request.user),
            "no_worker": jobqueue.no_worker_notice() if not analysis.is_finished else "",
        },
    )


def _cell(value: Any) -> Any:
    """Floats rounded for reading (the API keeps full precision)."""
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ") if abs(value) >= 1000 else round(value, 4)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return value


def _param_rows(analysis: Analysis) -> list[tuple[str, Any]]:
    """The parameters with their form labels, for people rather than for JSON."""
    try:
        fields = registry.get(analysis.type).form_class.base_fields
    except KeyError:
        fields = {}
    rows = []
    for name, value in (analysis.parameters or {}).items():
        if value in (None, "", []):
            continue
        choices = dict(getattr(fields.get(name), "choices", None) or [])
        shown = (
            ", ".join(str(choices.get(v, v)) for v in value) if isinstance(value, list) else choices.get(value, value)
        )
        rows.append((str(fields[name].label) if name in fields else name, shown))
    return rows


@login_required
@require_POST
def analysis_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    analysis = get_object_or_404(Analysis, pk=pk)
    try:
        service.rerun(request.user, analysis)
    except forms.ValidationError:
        pass  # already queued or running: the page shows its progress
    return redirect("analysis-page", pk)
