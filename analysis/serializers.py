"""JSON shape of an analysis for the API and the page's progress polling."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from analysis import registry
from analysis.models import Analysis
from gis_ioc import permissions


def _kind_title(code: str) -> str:
    try:
        return registry.get(code).title_vi
    except KeyError:
        return code


def analysis_json(analysis: Analysis, user: Any, *, detail: bool = False) -> dict[str, Any]:
    """The record; with `detail`, the statistics tables limited to the user's communes."""
    layer = analysis.result_layer_for(user)
    data: dict[str, Any] = {
        "id": analysis.pk,
        "type": analysis.type,
        "type_title": _kind_title(analysis.type),
        "title": analysis.title,
        "parameters": analysis.parameters,
        "status": analysis.status,
        "status_display": analysis.get_status_display(),
        "percent": analysis.percent,
        "message": analysis.message,
        "error": analysis.error,
        "runs": analysis.runs,
        "created_by": analysis.created_by.get_username() if analysis.created_by else None,
        "created_at": analysis.created_at.isoformat() if analysis.created_at else None,
        "started_at": analysis.started_at.isoformat() if analysis.started_at else None,
        "finished_at": analysis.finished_at.isoformat() if analysis.finished_at else None,
        "result_layer": layer.slug if layer else None,
        "url": reverse("analysis-api-detail", args=[analysis.pk]),
        "page": reverse("analysis-page", args=[analysis.pk]),
    }
    if layer:
        data["links"] = {
            "features": f"/api/v1/layers/{layer.slug}/features/",
            "ogc": f"/ogc/collections/{layer.slug}/items",
            "tiles": f"/tiles/{layer.slug}/{{z}}/{{x}}/{{y}}.mvt",
            "tilejson": f"/tiles/{layer.slug}.json",
        }
    if detail:
        scope = permissions.commune_scope(user)
        tables = []
        for t in analysis.statistics or []:
            rows = t.get("rows", [])
            if scope is not None:
                # A row without a commune (a district total) sums communes outside the scope: fails closed.
                rows = [r for r in rows if r.get("commune_code") in scope]
            tables.append({**t, "rows": rows})
        data["statistics"] = tables
    return data
