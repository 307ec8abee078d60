"""REST API: `GET/POST /api/v1/analyses/`, `GET /api/v1/analyses/{id}/`, `POST /api/v1/analyses/{id}/rerun/`,
`GET /api/v1/analyses/types/` (the parameters each analysis takes)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis import registry, service
from analysis.models import Analysis
from analysis.serializers import analysis_json
from gis_ioc import jobqueue

MAX_LIST = 200


def _validation_response(exc: forms.ValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        errors: Any = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    else:
        msgs = exc.messages
        errors = msgs[0] if msgs and isinstance(msgs[0], dict) else {"non_field_errors": [str(m) for m in msgs]}
        if isinstance(errors, dict):
            errors = {k: [e["message"] if isinstance(e, dict) else str(e) for e in v] for k, v in errors.items()}
    return Response({"detail": _("Tham số không hợp lệ."), "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


class _Base(APIView):
    def check_view(self, request: Request) -> None:
        if not request.user.is_authenticated:
            raise PermissionDenied(_("Hãy đăng nhập để xem các phân tích."))
        if not service.can_view(request.user):
            raise PermissionDenied(_("Tài khoản chưa được phân vai trò cán bộ."))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, PermissionDenied):
            code = status.HTTP_401_UNAUTHORIZED if not self.request.user.is_authenticated else 403
            return Response({"detail": str(exc)}, status=code)
        return super().handle_exception(exc)


class AnalysisListView(_Base):
    @extend_schema(summary="Danh sách phân tích", responses={200: dict})
    def get(self, request: Request) -> Response:
        self.check_view(request)
        qs = Analysis.objects.select_related("created_by", "result_layer")
        if ids := request.query_params.get("ids"):
            try:
                qs = qs.filter(pk__in=[int(i) for i in ids.split(",") if i])
            except ValueError:
                return Response({"detail": _("ids phải là các số nguyên cách nhau bởi dấu phẩy.")}, status=400)
        if kind := request.query_params.get("type"):
            qs = qs.filter(type=kind)
        return Response({"results": [analysis_json(a, request.user) for a in qs[:MAX_LIST]]})

    @extend_schema(summary="Chạy một phân tích", request=dict, responses={201: dict, 400: dict, 403: dict})
    def post(self, request: Request) -> Response:
        self.check_view(request)
        body = request.data if isinstance(request.data, dict) else {}
        kind = body.get("type")
        params = body.get("parameters", {})
        if not isinstance(params, dict):
            return Response({"detail": _("parameters phải là một đối tượng JSON.")}, status=400)
        try:
            analysis = service.start(request.user, str(kind or ""), params, str(body.get("title") or "")[:200])
        except KeyError:
            known = ", ".join(t.code for t in registry.all_types())
            return Response(
                {
                    "detail": _("Loại phân tích không hợp lệ: %(kind)r. Các loại: %(known)s.")
                    % {"kind": kind, "known": known}
                },
                status=400,
            )
        except forms.ValidationError as exc:
            return _validation_response(exc)
        return Response(
            jobqueue.with_worker_notice(analysis_json(analysis, request.user, detail=True)),
            status=status.HTTP_201_CREATED,
        )


class AnalysisDetailView(_Base):
    @extend_schema(summary="Một phân tích, với bảng thống kê", responses={200: dict})
    def get(self, request: Request, pk: int) -> Response:
        self.check_view(request)
        analysis = get_object_or_404(Analysis.objects.select_related("created_by", "result_layer"), pk=pk)
        return Response(jobqueue.with_worker_notice(analysis_json(analysis, request.user, detail=True)))


class AnalysisRerunView(_Base):
    @extend_schema(summary="Chạy lại một phân tích", request=None, responses={202: dict, 400: dict})
    def post(self, request: Request, pk: int) -> Response:
        self.check_view(request)
        analysis = get_object_or_404(Analysis, pk=pk)
        try:
            analysis = service.rerun(request.user, analysis)
        except forms.ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=409)
        return Response(
            jobqueue.with_worker_notice(analysis_json(analysis, request.user)), status=status.HTTP_202_ACCEPTED
        )


class AnalysisTypesView(_Base):
    @extend_schema(summary="Các loại phân tích và tham số", responses={200: dict})
    def get(self, request: Request) -> Response:
        self.check_view(request)
        out = []
        for kind in registry.all_types():
            form = kind.form_class()
            fields = [
                {
                    "name": name,
                    "label": str(f.label),
                    "required": f.required,
                    "type": type(f).__name__,
                    "initial": f.initial,
                    "choices": [list(map(str, c)) for c in getattr(f, "choices", [])] or None,
                }
                for name, f in form.fields.items()
            ]
            out.append({"type": kind.code, "title_vi": kind.title_vi, "title_en": kind.title_en, "parameters": fields})
        return Response({"results": out})
