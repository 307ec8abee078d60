"""Only the person who filed a petition rates its resolution: the tracking code is public, the receipt's
secret is not (it is shown once, to the filer, and only its digest is stored)."""

from __future__ import annotations

import re

import pytest

from petitions.models import Petition, PetitionEvent, Status
from tests.petitions.conftest import inside, set_status

pytestmark = pytest.mark.django_db
SECRET = re.compile(r'class="code receipt-secret">([0-9A-Z-]+)<')


def _file(client) -> tuple[Petition, str]:
    """File through the public form and read the secret off the receipt page (once)."""
    here = inside()
    response = client.post(
        "/petitions/", {"category": "moi_truong", "description": "Rác đổ trộm", "lat": here.y, "lon": here.x}
    )
    assert response.status_code == 302
    receipt = client.get(response["Location"])
    assert receipt["Cache-Control"] == "no-store"
    [secret] = SECRET.findall(receipt.content.decode())
    return Petition.objects.get(), secret


def test_the_receipt_page_shows_the_secret_once_and_stores_only_its_digest(client, district):
    petition, secret = _file(client)
    assert secret not in petition.receipt_hash and len(petition.receipt_hash) == 64
    again = client.get(f"/petitions/track/{petition.tracking_code}/?new=1").content.decode()
    assert secret not in again and not SECRET.search(again)


def test_someone_with_only_the_tracking_code_cannot_rate(client, district, agency):
    petition, _secret = _file(client)
    set_status(petition, Status.RESOLVED, agency=agency)
    url = f"/petitions/track/{petition.tracking_code}/rate/"
    for data in ({"rating": "1"}, {"rating": "1", "receipt": petition.tracking_code}, {"rating": "1", "receipt": ""}):
        response = client.post(url, data)
        assert response.status_code == 403
        assert "mã bí mật" in response.content.decode()
    petition.refresh_from_db()
    assert petition.rating is None and petition not in Petition.objects.escalations()
    assert not PetitionEvent.objects.filter(petition=petition, action="rate").exists()


def test_the_filer_rates_with_the_secret_from_the_receipt(client, district, agency):
    petition, secret = _file(client)
    set_status(petition, Status.RESOLVED, agency=agency)
    typed = secret.lower().replace("-", " ")  # as read back from paper: case and separators do not matter
    response = client.post(f"/petitions/track/{petition.tracking_code}/rate/", {"rating": "5", "receipt": typed})
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.rating == 5


def test_an_open311_filer_gets_the_secret_once_in_the_answer_and_rates_with_it(client, district, agency):
    here = inside()
    created = client.post(
        "/open311/v2/requests.json", {"service_code": "khac", "lat": here.y, "long": here.x, "description": "Ổ gà"}
    )
    assert created.status_code == 201
    [answer] = created.json()
    petition = set_status(Petition.objects.get(tracking_code=answer["service_request_id"]), Status.RESOLVED, agency)
    [row] = client.get(f"/open311/v2/requests/{petition.tracking_code}.json").json()
    assert answer["receipt_secret"] not in str(row)
    url = f"/petitions/track/{petition.tracking_code}/rate/"
    assert client.post(url, {"rating": "4", "receipt": answer["token"]}).status_code == 403
    assert client.post(url, {"rating": "4", "receipt": answer["receipt_secret"]}).status_code == 302


def test_petitions_made_outside_intake_each_get_a_secret_nobody_knows(district):
    made = [Petition(category="khac", description="x", geom=inside()) for _i in range(2)]  # as bulk loads do
    assert made[0].receipt_hash != made[1].receipt_hash and len(made[0].receipt_hash) == 64
    assert not made[0].receipt_matches("") and not made[0].receipt_matches(None)
