"""Models of the layers app: the catalog and the sector models."""

from layers.models.base import SectorFeature, assign_communes_in_bulk
from layers.models.catalog import Layer, LayerChange, Visibility
from layers.models.imports import ImportJob, ImportMapping  # noqa: F401 - import/export (issue 6)
from layers.models.rural import CropArea, Farm, TourismSite, VisitorCount
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
    "CropArea",
    "Dossier",
    "Farm",
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
    "TourismSite",
    "VisitorCount",
    "Visibility",
    "assign_communes_in_bulk",
]
