"""The analyses the platform ships, behind one small interface: a parameter form (validation for the web
page and the API alike) and a `run` that returns result features and statistics tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django import forms

from analysis.results import FeatureSet

Progress = Callable[[int, str], None]

# Metric CRS for distances and hexagons: WGS 84 / UTM 49N (Đơn Dương lies at 108.3–108.7°E, 2.5° from
# the central meridian: scale error about 0.05 %). Plain WGS 84, so no VN-2000 datum shift is involved.
METRIC_SRID = 32649


class AnalysisError(Exception):
    """A failure a person can act on (bad data, nothing to analyse); the message is shown as is."""


@dataclass
class Outcome:
    features: FeatureSet
    layer_title_vi: str
    layer_title_en: str
    statistics: list[dict[str, Any]] = field(default_factory=list)
    description_vi: str = ""


# A statistics table lives in the record's JSON: long lists (41,000 conflicting parcels) stay in the
# result layer, the table keeps the first rows and says how many there are.
MAX_TABLE_ROWS = 2000


def table(key: str, title_vi: str, title_en: str, columns: list[tuple[str, str, str]], rows: list[dict]) -> dict:
    """One statistics table: columns as (name, title_vi, title_en); rows beyond MAX_TABLE_ROWS are cut."""
    return {
        "key": key,
        "title_vi": title_vi,
        "title_en": title_en,
        "columns": [{"name": n, "title_vi": vi, "title_en": en} for n, vi, en in columns],
        "rows": rows[:MAX_TABLE_ROWS],
        "total_rows": len(rows),
    }


class AnalysisType:
    code: ClassVar[str]
    title_vi: ClassVar[str]
    title_en: ClassVar[str]
    form_class: ClassVar[type[forms.Form]]

    def clean(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Validated parameters (JSON-ready); raises forms.ValidationError with per-field messages."""
        # Parameters left out take the form's defaults (an API client need not send them all).
        data = {n: f.initial for n, f in self.form_class.base_fields.items() if f.initial is not None}
        data.update({k: v for k, v in (parameters or {}).items() if v is not None})
        form = self.form_class(data=data)
        if not form.is_valid():
            errors = form.errors.get_json_data()
            raise forms.ValidationError({k: [e["message"] for e in v] for k, v in errors.items()})
        return {k: _jsonable(v) for k, v in form.cleaned_data.items()}

    def run(self, params: dict[str, Any], progress: Progress, communes: list[str] | None) -> Outcome:
        raise NotImplementedError


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


REGISTRY: dict[str, AnalysisType] = {}


def register(cls: type[AnalysisType]) -> type[AnalysisType]:
    REGISTRY[cls.code] = cls()
    return cls


def get(code: str) -> AnalysisType:
    """The analysis type of that code (KeyError when unknown)."""
    _load()
    return REGISTRY[code]


def all_types() -> list[AnalysisType]:
    _load()
    return list(REGISTRY.values())


def _load() -> None:
    # The analysis modules register themselves on import.
    from analysis import coverage, hotspots, trends, zonal, zoning_analyses  # noqa: F401
