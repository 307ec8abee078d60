"""The alert centre: people see only the alerts of their communes and layers, and act on them with a
history; rules are defined on the rules page, a bad one refused with a message naming the field."""

from __future__ import annotations

import json
import re

import pytest

from alerts.evaluate import evaluate_rules
from alerts.models import Alert, Rule
from tests.alerts.conftest import make_rule
from tests.petitions.conftest import inside, new_petition

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_alerts(district):
    """A threshold alert in Thạnh Mỹ (24931) and one in another commune (24934)."""
    rule = make_rule(kind="threshold", statistic="petitions_received", period="month", operator="ge", value=1)
    new_petition(point=inside("24931"))
    new_petition(point=inside("24934"))
    evaluate_rules(rules=[rule])
    return {a.commune_code: a for a in Alert.objects.all()}


def test_a_scoped_officer_sees_only_his_communes_alerts(two_alerts, scoped_officer, leader, client):
    client.force_login(scoped_officer)
    listed = client.get("/api/v1/alerts/").json()["features"]
    assert [f["properties"]["commune_code"] for f in listed] == ["24931"]
    assert client.get(f"/api/v1/alerts/{two_alerts['24934'].pk}/").status_code == 404
    assert client.post(f"/alerts/{two_alerts['24934'].pk}/act/", {"action": "resolve"}).status_code == 404
    page = client.get("/alerts/").content.decode()
    assert two_alerts["24931"].message_vi in page and two_alerts["24934"].message_vi not in page
    client.force_login(leader)
    assert len(client.get("/api/v1/alerts/").json()["features"]) == 2


def test_an_alert_is_acknowledged_assigned_and_resolved_with_its_history(two_alerts, leader, scoped_officer, client):
    alert = two_alerts["24931"]
    client.force_login(leader)
    r = client.post(f"/alerts/{alert.pk}/act/", {"action": "acknowledge", "note": "Đã nắm tình hình"})
    assert r.status_code == 302
    r = client.post(
        f"/alerts/{alert.pk}/act/", {"action": "assign", "assignee": "scoped_officer"}, HTTP_ACCEPT="application/json"
    )
    assert r.json() == {"id": alert.pk, "status": "acknowledged"}
    # The other commune's alert cannot be given to an officer who may not see it.
    other = two_alerts["24934"].pk
    refused = client.post(f"/alerts/{other}/act/", {"action": "assign", "assignee": "scoped_officer"})
    assert refused.status_code == 400 and "scoped_officer" in refused.content.decode()
    client.force_login(scoped_officer)
    client.post(f"/alerts/{alert.pk}/act/", {"action": "resolve", "note": "Đã thu gom rác"})
    detail = client.get(f"/api/v1/alerts/{alert.pk}/").json()["properties"]
    assert detail["status"] == "resolved" and detail["assignee"] == "scoped_officer"
    assert [(h["actor"], h["action"], h["note"]) for h in detail["history"]] == [
        ("leader", "acknowledge", "Đã nắm tình hình"),
        ("leader", "assign", ""),
        ("scoped_officer", "resolve", "Đã thu gom rác"),
    ]
    assert "Đã thu gom rác" in client.get(f"/alerts/?alert={alert.pk}").content.decode()


def test_a_step_taken_on_an_alert_reaches_the_open_centres_of_those_who_may_see_it(
    two_alerts, leader, scoped_officer, client
):
    from live.events import events_after
    from live.policy import Audience
    from tests.conftest import make_user

    far = make_user("far_officer", "field_officer", communes=["24934"])
    client.force_login(scoped_officer)
    client.post(f"/alerts/{two_alerts['24931'].pk}/act/", {"action": "resolve", "note": "Chỉ cho nội bộ"})
    [step] = [e for e in events_after(0, 1000) if e["kind"] == "alert.changed"]
    seen = Audience(leader).load().view(step)
    assert seen is not None and seen["payload"]["alert"]["status"] == "resolved"
    assert seen["payload"]["action"] == "resolve" and "Chỉ cho nội bộ" not in str(seen["payload"])
    assert Audience(far).load().view(step) is None  # another commune's officer is not told
    page = client.get("/alerts/").content.decode()
    labels = re.search(r'<script id="alert-labels" type="application/json">(.*?)</script>', page)
    assert labels and json.loads(labels.group(1))["status"]["resolved"] == "Đã xử lý xong"  # for live rows


def test_a_bad_action_or_filter_is_refused_with_a_message(two_alerts, leader, client):
    client.force_login(leader)
    alert = two_alerts["24931"]
    r = client.post(f"/alerts/{alert.pk}/act/", '{"action": "explode"}', content_type="application/json")
    assert r.status_code == 400 and "explode" in r.json()["detail"]
    r = client.get("/api/v1/alerts/?status=lost")
    assert r.status_code == 400 and "lost" in r.json()["detail"]
    assert client.get("/api/v1/alerts/").status_code == 200
    client.logout()
    assert client.get("/api/v1/alerts/").status_code == 401


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Phản ánh tăng", "kind": "threshold", "severity": "warning", "active": "on",
        "statistic": "petitions_received", "period": "month", "operator": "ge", "value": "10",
        "recipient_roles": ["leader"], "email": "on",
    }  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"statistic": "happiness"}, "statistic", "happiness"),
        ({"statistic": "petition_resolution_rate", "value": "150"}, "value", "100"),
        ({"value": "-3"}, "value", "âm"),
        ({"kind": "near_place", "longitude": "108.5", "latitude": "11.8", "radius_m": "0"}, "radius_m", "0 mét"),
        ({"kind": "near_place", "radius_m": "100"}, "longitude", "địa điểm"),
        ({"recipient_roles": None}, "recipient_roles", "người nhận"),
    ],
)
def test_a_rule_that_cannot_hold_is_refused_naming_the_field(district, leader, client, overrides, field, words):
    client.force_login(leader)
    r = client.post("/alerts/rules/", _form(**overrides))
    assert r.status_code == 400
    errors = r.context["form"].errors
    assert field in errors and words in " ".join(errors[field]), errors
    assert not Rule.objects.exists()


def test_a_leader_defines_a_rule_on_the_page_and_an_officer_may_not(district, leader, field_officer, client):
    client.force_login(leader)
    assert client.post("/alerts/rules/", _form()).status_code == 302
    rule = Rule.objects.get()
    assert (rule.statistic, rule.operator, rule.value, rule.recipient_roles) == (
        "petitions_received",
        "ge",
        10,
        ["leader"],
    )
    assert "Phản ánh tăng" in client.get("/alerts/rules/").content.decode()
    client.force_login(field_officer)
    assert client.get("/alerts/rules/").status_code == 403


def test_the_alert_centre_speaks_english_after_the_switch(two_alerts, leader, client, settings):
    client.force_login(leader)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/alerts/").content.decode()
    assert "Alert centre" in page and "Trung tâm cảnh báo" not in page
    assert two_alerts["24931"].message_en in page
    listed = client.get("/api/v1/alerts/").json()["features"]
    assert {f["properties"]["message"] for f in listed} == {a.message_en for a in two_alerts.values()}


def test_an_administrator_adds_a_near_place_rule_in_the_admin(district, administrator, client):
    client.force_login(administrator)
    assert client.get("/admin/alerts/rule/add/").status_code == 200
    data = _form(kind="near_place", statistic="", period="", operator="", value="", category="moi_truong",
                 longitude="108.47", latitude="11.79", radius_m="250")  # fmt: skip
    refused = client.post("/admin/alerts/rule/add/", {**data, "radius_m": "-5"})
    assert refused.status_code == 200 and "0 mét" in refused.content.decode()
    assert client.post("/admin/alerts/rule/add/", data).status_code == 302
    rule = Rule.objects.get()
    assert (rule.kind, rule.radius_m, round(rule.place.x, 2), rule.created_by) == (
        "near_place",
        250,
        108.47,
        administrator,
    )


def test_a_rule_edited_down_to_no_recipients_is_refused_and_kept(district, leader, client):
    client.force_login(leader)
    assert client.post("/alerts/rules/", _form()).status_code == 302
    rule = Rule.objects.get()
    r = client.post(f"/alerts/rules/{rule.pk}/", _form(recipient_roles=None, name="Không ai nhận"))
    assert r.status_code == 400
    assert "người nhận" in " ".join(r.context["form"].errors["recipient_roles"])
    rule.refresh_from_db()
    assert rule.recipient_roles == ["leader"] and rule.name == "Phản ánh tăng"
