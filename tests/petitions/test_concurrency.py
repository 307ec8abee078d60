"""Races over real HTTP against a live server: 50 identical syncs make one record; two officers
resolving the same petition at once — one wins, the other gets a clear 409."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from django.test import Client

from gis_ioc import roles
from petitions.models import FieldReport, PetitionEvent, Status
from tests.conftest import make_user
from tests.petitions.conftest import inside, new_petition, set_status

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def signed_in(live_server, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{live_server.url}/field/login/", timeout=10)
    token = session.cookies["csrftoken"]
    response = session.post(
        f"{live_server.url}/field/login/",
        data={"username": username, "password": f"pw-{username}-123", "csrfmiddlewaretoken": token},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:300]
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def test_fifty_concurrent_identical_syncs_create_exactly_one_report(transactional_db, district):
    """50 threads, each with its own database connection, post the same report through the full Django
    stack (middleware, view, SQL) at the same instant. (Django's development live server refuses a burst
    of 50 TCP connections — its listen backlog is 10 — so the requests go through the test client; the
    race under test is in PostgreSQL, which every thread reaches on its own connection.)"""
    officer = make_user("officer50", roles.FIELD_OFFICER)
    here = inside()
    data = {
        "uuid": str(uuid.uuid4()),
        "lat": f"{here.y:.7f}",
        "lon": f"{here.x:.7f}",
        "accuracy": "6",
        "note": "Báo cáo gửi lại nhiều lần",
        "captured_at": "2025-06-01T08:30:00+07:00",
    }
    start = threading.Barrier(50)

    def send(_i: int) -> tuple[int, int]:
        try:
            client = Client()
            client.force_login(officer)
            start.wait()
            response = client.post("/field/api/reports/", data)
            return response.status_code, response.json()["id"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(send, range(50)))
    statuses = sorted(code for code, _id in results)
    assert statuses.count(201) == 1 and statuses.count(200) == 49
    assert len({report_id for _code, report_id in results}) == 1
    assert FieldReport.objects.count() == 1


def test_two_officers_resolving_at_once_one_wins_the_other_gets_409(live_server, district, agency):
    first = make_user("resolver1", roles.AGENCY_STAFF)
    second = make_user("resolver2", roles.AGENCY_STAFF)
    agency.members.add(first, second)
    petition = set_status(new_petition(), Status.IN_PROGRESS, agency=agency)
    sessions = [signed_in(live_server, "resolver1"), signed_in(live_server, "resolver2")]
    start = threading.Barrier(2)
    url = f"{live_server.url}/api/v1/petitions/{petition.tracking_code}/transition/"

    def resolve(i: int) -> requests.Response:
        start.wait()
        return sessions[i].post(url, json={"action": "resolve", "note": f"Cán bộ {i + 1} đã xử lý"}, timeout=30)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(resolve, range(2)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert "Đã giải quyết" in loser.json()["error"]
    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED
    assert PetitionEvent.objects.filter(petition=petition, action="resolve").count() == 1
