"""Models of the layers app: the catalog and the sector models."""

from layers.models.base import SectorFeature, assign_communes_in_bulk
from layers.models.catalog import Layer, LayerChange, Visibility
from layers.models.imports import ImportJob, ImportMapping  # noqa: F401 - import/export (issue 6)
from layers.models.sectors import (
    BudgetRevenue,
    Dossier,
    HealthFacility,
    HouseholdBusiness,
    Indicator,
    LandParcel,
    PlanningPlan,
    PlanningZone,
    School,
)

__all__ = [
    "BudgetRevenue",
    "Dossier",
    "HealthFacility",
    "HouseholdBusiness",
    "Indicator",
    "LandParcel",
    "Layer",
    "LayerChange",
    "PlanningPlan",
    "PlanningZone",
    "School",
    "SectorFeature",
    "Visibility",
    "assign_communes_in_bulk",
]
