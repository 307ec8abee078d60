"""The staff desk: lists in scope, workflow buttons, the JSON transition API, escalations for leaders."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from petitions.models import Petition, Status
from tests.petitions.conftest import inside, new_petition, set_status


def test_the_desk_lists_only_the_users_communes(client, district, scoped_officer):
    mine = new_petition(point=inside("24931"))
    other = new_petition(point=inside("24949"))
    client.force_login(scoped_officer)
    body = client.get("/petitions/desk/").content.decode()
    assert mine.tracking_code in body and other.tracking_code not in body
    assert client.get(f"/petitions/desk/{other.tracking_code}/").status_code == 403


def test_citizens_and_planners_cannot_open_the_desk(client, district, planner):
    assert client.get("/petitions/desk/").status_code == 302
    client.force_login(planner)
    assert client.get("/petitions/desk/").status_code == 403


def test_the_detail_page_offers_the_steps_the_user_may_take(client, district, leader, field_officer):
    petition = new_petition(name="Ngô Thị G")
    client.force_login(field_officer)
    body = client.get(f"/petitions/desk/{petition.tracking_code}/").content.decode()
    assert 'value="verify"' in body and 'value="assign"' not in body
    assert "Ngô Thị G" not in body, "field officers not assigned to it do not see the reporter"
    client.force_login(leader)
    body = client.get(f"/petitions/desk/{petition.tracking_code}/").content.decode()
    assert "Ngô Thị G" in body and "Thị trấn Thạnh Mỹ" in body


def test_buttons_take_steps_and_refusals_come_back_as_pages(client, district, field_officer, agency_member):
    petition = new_petition()
    client.force_login(field_officer)
    response = client.post(f"/petitions/desk/{petition.tracking_code}/act/", {"action": "verify", "note": "Đúng"})
    assert response.status_code == 302
    assert Petition.objects.get(pk=petition.pk).status == Status.VERIFIED
    client.force_login(agency_member)
    refused = client.post(f"/petitions/desk/{petition.tracking_code}/act/", {"action": "resolve", "note": "x"})
    assert refused.status_code == 403 and "không có quyền" in refused.content.decode()


def test_the_api_answers_403_409_and_400_clearly(client, district, leader, agency, agency_member):
    petition = set_status(new_petition(), Status.IN_PROGRESS, agency=agency)
    url = f"/api/v1/petitions/{petition.tracking_code}/transition/"
    assert client.post(url, {"action": "resolve"}, content_type="application/json").status_code == 401
    client.force_login(leader)
    assert client.post(url, {"action": "resolve", "note": "x"}, content_type="application/json").status_code == 403
    client.force_login(agency_member)
    stale = client.post(url, {"action": "resolve", "note": "x", "version": 99}, content_type="application/json")
    assert stale.status_code == 409 and "vừa được người khác cập nhật" in stale.json()["error"]
    assert client.post(url, {"action": "fly", "note": "x"}, content_type="application/json").status_code == 400
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    done = client.post(
        url, {"action": "resolve", "note": "Đã sửa", "version": petition.version}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"


def test_leaders_get_the_escalation_list(client, district, leader, field_officer, agency):
    late = new_petition()
    Petition.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=4), agency=agency)
    on_time = new_petition(point=inside("24937"))
    client.force_login(field_officer)
    assert client.get("/petitions/desk/escalations/").status_code == 403
    assert client.get("/api/v1/petitions/escalations/").status_code == 403
    client.force_login(leader)
    page = client.get("/petitions/desk/escalations/").content.decode()
    assert late.tracking_code in page and on_time.tracking_code not in page and "Quá hạn 4 ngày" in page
    data = client.get("/api/v1/petitions/escalations/").json()
    assert [r["tracking_code"] for r in data["results"]] == [late.tracking_code]
    assert data["results"][0]["agency"] == agency.name


def test_the_overdue_filter_and_csv_export(client, district, agency_staff):
    late = new_petition()
    Petition.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    new_petition(point=inside("24937"))
    client.force_login(agency_staff)
    body = client.get("/petitions/desk/?overdue=1").content.decode()
    assert late.tracking_code in body and "Quá hạn" in body
    csv_text = client.get("/petitions/desk/export.csv?overdue=1").content.decode("utf-8-sig")
    assert csv_text.count("\n") == 2 and late.tracking_code in csv_text


def test_a_leader_sends_a_field_officer_who_then_sees_it_as_his(client, district, leader, scoped_officer):
    petition = new_petition(point=inside("24931"))
    outside = new_petition(point=inside("24949"))
    client.force_login(leader)
    page = client.get(f"/petitions/desk/{petition.tracking_code}/").content.decode()
    assert "Giao cán bộ xác minh" in page and "scoped_officer" in page
    assert "scoped_officer" not in client.get(f"/petitions/desk/{outside.tracking_code}/").content.decode()
    response = client.post(
        f"/petitions/desk/{petition.tracking_code}/act/", {"action": "dispatch", "officer": scoped_officer.pk}
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.field_officer == scoped_officer and petition.status == Status.RECEIVED
    assert petition.events.filter(action="dispatch", actor=leader).exists()
    refused = client.post(
        f"/petitions/desk/{outside.tracking_code}/act/", {"action": "dispatch", "officer": scoped_officer.pk}
    )
    assert refused.status_code == 400
    client.force_login(scoped_officer)
    rows = client.get("/field/api/assigned/").json()["results"]
    assert rows[0]["tracking_code"] == petition.tracking_code and rows[0]["mine"] is True
    assert rows[0]["reporter_phone"] == "0912345678", "the officer sent there may call the reporter"
    assert (
        client.post(
            f"/petitions/desk/{petition.tracking_code}/act/", {"action": "dispatch", "officer": scoped_officer.pk}
        ).status_code
        == 403
    )
