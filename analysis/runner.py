"""Running one analysis: compute (progress committed as it goes), then write the result table, the catalog
entry and the final status in ONE transaction — a failed or killed run leaves no partial layer."""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from django import forms
from django.db import transaction
from django.utils import timezone

from analysis import registry
from analysis.models import Analysis
from analysis.results import register_layer, write_features
from gis_ioc.lib.errors import without_paths

log = logging.getLogger(__name__)

# Fault injection for the killed-worker test: seconds to wait inside the result transaction before it
# commits. Never set in production.
PAUSE_ENV = "IOC_ANALYSIS_PAUSE_BEFORE_COMMIT"


def _errors_text(exc: forms.ValidationError) -> str:
    data: Any = exc.messages if not hasattr(exc, "error_dict") else exc.message_dict
    if isinstance(data, dict):
        return "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in data.items())
    if data and isinstance(data[0], dict):
        return "; ".join(f"{k}: {' '.join(e['message'] for e in v)}" for k, v in data[0].items())
    return "; ".join(str(m) for m in data)


def execute(analysis_id: int, job_id: int | None = None) -> Analysis:
    """Run the analysis now, in this process; returns it in its final state."""
    analysis = Analysis.objects.get(pk=analysis_id)
    now = timezone.now()
    Analysis.objects.filter(pk=analysis.pk).update(
        status=Analysis.Status.RUNNING,
        percent=0,
        message="",
        error="",
        started_at=now,
        finished_at=None,
        runs=analysis.runs + 1,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        job_id=job_id if job_id is not None else analysis.job_id,
    )
    analysis.refresh_from_db()
    try:
        kind = registry.get(analysis.type)
        params = kind.clean(analysis.parameters)
        communes = params.get("communes") or None
        outcome = kind.run(params, analysis.set_progress, communes)
        analysis.set_progress(95, "Đang ghi kết quả")
        with transaction.atomic():
            write_features(analysis.result_table, outcome.features)
            layer = register_layer(
                analysis.result_slug,
                analysis.result_table,
                outcome.features,
                title_vi=f"{outcome.layer_title_vi} (#{analysis.pk})",
                title_en=f"{outcome.layer_title_en} (#{analysis.pk})",
                description_vi=outcome.description_vi,
            )
            pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
            if pause > 0:
                log.warning("analysis %s: pausing %.1fs before commit (%s)", analysis.pk, pause, PAUSE_ENV)
                time.sleep(pause)
            Analysis.objects.filter(pk=analysis.pk).update(
                status=Analysis.Status.SUCCEEDED,
                percent=100,
                message="",
                finished_at=timezone.now(),
                statistics=outcome.statistics,
                result_layer=layer,
            )
    except KeyError:
        analysis.mark_failed(f"Loại phân tích không tồn tại: {analysis.type}")
    except forms.ValidationError as exc:
        analysis.mark_failed("Tham số không hợp lệ: " + _errors_text(exc))
    except registry.AnalysisError as exc:
        analysis.mark_failed(str(exc))
    except Exception as exc:  # noqa: BLE001 - the record must say why, whatever broke
        log.exception("analysis %s failed", analysis.pk)
        # The log keeps the paths; the user reads file names (GDAL quotes the absolute path it could not open).
        analysis.mark_failed(f"Lỗi hệ thống: {type(exc).__name__}: {without_paths(str(exc))}")
    analysis.refresh_from_db()
    return analysis
