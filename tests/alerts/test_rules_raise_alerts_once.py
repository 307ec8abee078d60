"""Rules raise alerts from the data, each exactly once however often they are evaluated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.evaluate import evaluate_rules
from alerts.models import Alert
from tests.alerts.conftest import make_rule
from tests.petitions.conftest import inside, metres_east, new_petition

pytestmark = pytest.mark.django_db


def test_a_threshold_rule_raises_one_alert_for_one_data_change_even_when_evaluated_twice(district):
    rule = make_rule(kind="threshold", statistic="petitions_received", period="month", operator="ge", value=2)
    new_petition(point=inside("24931"))
    assert evaluate_rules(rules=[rule]) == []  # one petition: under the threshold
    new_petition(point=inside("24931"))
    first = evaluate_rules(rules=[rule])
    second = evaluate_rules(rules=[rule])
    assert [(a.commune_code, a.value) for a in first] == [("24931", 2.0)]
    assert second == []
    assert Alert.objects.filter(rule=rule).count() == 1
    alert = Alert.objects.get(rule=rule)
    assert "Thạnh Mỹ" in alert.message_vi and "2" in alert.message_vi
    assert alert.layer_slugs == ["petitions"]


def test_an_overdue_petition_and_an_overdue_dossier_raise_sla_alerts(district):
    from tests.factories import DossierFactory

    petitions_rule = make_rule(kind="sla_petition", severity="critical")
    dossiers_rule = make_rule(kind="sla_dossier")
    late = new_petition(point=inside("24937"))
    late.due_at = timezone.now() - dt.timedelta(hours=2)
    late.save(update_fields=["due_at"])
    new_petition(point=inside("24937"))  # not due yet
    DossierFactory(in_commune="24931", received_date=dt.date.today() - dt.timedelta(days=30), resolved_date=None)
    DossierFactory(in_commune="24931", received_date=dt.date.today() - dt.timedelta(days=30))  # resolved

    raised = evaluate_rules(rules=[petitions_rule, dossiers_rule])
    assert evaluate_rules(rules=[petitions_rule, dossiers_rule]) == []
    by_rule = {a.rule_id: a for a in raised}
    assert len(raised) == 2
    assert late.tracking_code in by_rule[petitions_rule.pk].message_vi
    assert by_rule[petitions_rule.pk].severity == "critical"
    assert by_rule[petitions_rule.pk].commune_code == "24937"
    assert "quá hạn" in by_rule[dossiers_rule.pk].message_vi
    assert by_rule[dossiers_rule.pk].layer_slugs == ["dossiers"]


def test_a_new_petition_of_the_category_near_the_place_raises_an_alert_and_a_far_one_does_not(district):
    place = inside("24931")
    rule = make_rule(kind="near_place", category="moi_truong", place=place, radius_m=500)
    near = new_petition(category="moi_truong", point=metres_east(place, 300))
    new_petition(category="moi_truong", point=metres_east(place, 900))  # too far
    new_petition(category="dat_dai", point=metres_east(place, 100))  # another category
    raised = evaluate_rules(rules=[rule])
    assert [a.message_vi.split()[3] for a in raised] == [near.tracking_code]
    assert raised[0].geom.distance(near.geom) == 0
    assert evaluate_rules(rules=[rule]) == []


def test_an_anomaly_of_the_trends_analysis_raises_one_alert_about_its_series(district):
    from analysis.trends import add_months
    from tests.analysis.test_trends import MONTH, _petitions

    rule = make_rule(kind="anomaly", severity="critical")
    for i in range(12, 0, -1):  # a calm year, then a jump in June 2024 in Thạnh Mỹ only
        _petitions("24931", add_months(MONTH, -i), 2 + i % 3)
        _petitions("24937", add_months(MONTH, -i), 2 + i % 3)
    _petitions("24931", MONTH, 20)
    _petitions("24937", MONTH, 3)
    july = dt.date(2024, 7, 15)  # June is the last complete month
    raised = evaluate_rules(today=july, rules=[rule])
    assert [(a.commune_code, a.value, a.layer_slugs) for a in raised] == [("24931", 20.0, ["petitions"])]
    assert "tăng bất thường" in raised[0].message_vi
    assert evaluate_rules(today=july, rules=[rule]) == []


def test_a_falling_short_threshold_is_judged_on_the_last_complete_period_not_the_one_just_begun(district):
    from petitions.models import Petition

    rule = make_rule(
        kind="threshold", statistic="petitions_received", period="month", operator="lt", value=2, communes=["24931"]
    )
    today = timezone.localdate()
    month_start = today.replace(day=1)
    last_month = timezone.make_aware(dt.datetime.combine(month_start - dt.timedelta(days=3), dt.time(10)))
    for _ in range(2):
        Petition.objects.filter(pk=new_petition(point=inside("24931")).pk).update(received_at=last_month)
    # This month has just begun with no petition yet: not a shortfall; last month had its two.
    assert evaluate_rules(today=today, rules=[rule]) == []
    # Once this month is over with none received, it fell short: one alert, about this month.
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    [alert] = evaluate_rules(today=next_month, rules=[rule])
    assert evaluate_rules(today=next_month + dt.timedelta(days=1), rules=[rule]) == []
    assert alert.commune_code == "24931" and alert.value == 0
    assert alert.key == f"threshold:24931:{month_start.isoformat()}"
    assert f"từ {month_start:%d/%m/%Y}" in alert.message_vi
