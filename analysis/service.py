"""Starting and re-running analyses: one entry point for the web page, the API and the notebooks.

The job is enqueued in the same transaction as the record (procrastinate's Django connector uses
Django's connection), so there is never a record without a job or a job without a record.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from analysis import registry
from analysis.models import Analysis
from gis_ioc import permissions, roles

RUN_ROLES = (roles.GIS_STAFF, roles.PLANNER)


def can_run(user: Any) -> bool:
    """GIS staff and planners (and administrators) run analyses."""
    return permissions.has_role(user, *RUN_ROLES)


def can_view(user: Any) -> bool:
    """Any signed-in staff member sees the list of analyses and their results."""
    return bool(user is not None and user.is_authenticated and (permissions.role_names(user) or user.is_superuser))


def scoped_parameters(user: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """Limit the communes of the parameters to the user's scope (a scoped user analyses only their communes)."""
    params = dict(parameters or {})
    scope = permissions.commune_scope(user)
    asked = params.get("communes")
    if asked in ("", None, []):
        asked = None
    if asked is not None and (not isinstance(asked, list) or not all(isinstance(c, str) for c in asked)):
        raise forms.ValidationError({"communes": [_("Danh sách xã phải là mảng mã xã (chuỗi).")]})
    if scope is not None and not scope:
        # An empty scope is no commune at all: the analysis must not fall back to "every commune".
        raise forms.ValidationError({"communes": [_("Bạn chưa được giao xã nào nên không chạy được phân tích.")]})
    if scope is not None:
        if asked is not None and not set(asked) <= scope:
            outside = ", ".join(sorted(set(asked) - scope))
            raise forms.ValidationError(
                {"communes": [_("Bạn không được phân tích các xã ngoài phạm vi: %(codes)s.") % {"codes": outside}]}
            )
        asked = sorted(asked or scope)
    params["communes"] = asked
    return params


def start(user: Any, type_code: str, parameters: dict[str, Any], title: str = "") -> Analysis:
    """Validate, record and enqueue an analysis. Raises PermissionDenied, KeyError (unknown type) or
    forms.ValidationError (per-field messages)."""
    if not can_run(user):
        raise PermissionDenied(_("Chỉ cán bộ GIS và cán bộ quy hoạch được chạy phân tích."))
    kind = registry.get(type_code)
    cleaned = kind.clean(scoped_parameters(user, parameters))
    _check_input_layers(user, cleaned)
    with transaction.atomic():
        analysis = Analysis.objects.create(
            type=type_code, title=title or kind.title_vi, parameters=cleaned, created_by=user
        )
        enqueue(analysis)
    return analysis


def _check_input_layers(user: Any, cleaned: dict[str, Any]) -> None:
    """An analysis reads the catalog layers it names (e.g. `roads`) only if its author may see them."""
    from layers.models import Layer

    for key in ("roads",):
        slug = cleaned.get(key)
        if not slug:
            continue
        layer = Layer.objects.filter(slug=slug).first()
        # An absent layer is reported by the run itself (only a travel-time run needs roads); a layer the
        # author may not see is refused as if absent.
        if layer is not None and not permissions.can_view_layer(user, layer):
            raise forms.ValidationError({key: [_("Không có lớp bản đồ “%(slug)s”.") % {"slug": slug}]})


def enqueue(analysis: Analysis) -> None:
    from analysis.tasks import run_analysis

    job_id = run_analysis.defer(analysis_id=analysis.pk)
    Analysis.objects.filter(pk=analysis.pk).update(job_id=job_id)
    analysis.job_id = job_id


def rerun(user: Any, analysis: Analysis) -> Analysis:
    """Queue the analysis again with the same parameters (refused while it is queued or running)."""
    if not can_run(user):
        raise PermissionDenied(_("Chỉ cán bộ GIS và cán bộ quy hoạch được chạy phân tích."))
    with transaction.atomic():
        locked = Analysis.objects.select_for_update().get(pk=analysis.pk)
        if locked.status in (Analysis.Status.QUEUED, Analysis.Status.RUNNING):
            raise forms.ValidationError(_("Phân tích đang chờ hoặc đang chạy; hãy đợi nó kết thúc."))
        Analysis.objects.filter(pk=locked.pk).update(
            status=Analysis.Status.QUEUED, percent=0, message="", error="", started_at=None, finished_at=None
        )
        enqueue(locked)
    analysis.refresh_from_db()
    return analysis
