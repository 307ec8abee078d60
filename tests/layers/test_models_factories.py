"""Every sector factory makes a valid, spatially assigned record (others build their tests on them)."""

from __future__ import annotations

import pytest

from tests import factories as f

ALL = [
    f.SchoolFactory,
    f.HealthFacilityFactory,
    f.HouseholdBusinessFactory,
    f.LandParcelFactory,
    f.PlanningZoneFactory,
    f.PetitionFactory,
    f.DossierFactory,
    f.BudgetRevenueFactory,
    f.IndicatorFactory,
]


@pytest.mark.parametrize("factory_class", ALL, ids=lambda c: c.__name__)
def test_each_factory_builds_a_valid_record_in_the_requested_commune(district, factory_class):
    record = factory_class(in_commune="24937")
    record.full_clean()
    assert record.commune_code == "24937"
    assert record.commune.name == "Xã Đạ Ròn"
