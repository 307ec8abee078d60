"""Password guessing is bounded on every sign-in page, per user and per client, and an administrator can lift it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gis_ioc.lib.client_ip import client_ip
from tests.conftest import make_user

LOGIN_PAGES = ["/login/", "/admin/login/", "/field/login/"]
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


@pytest.fixture
def officer(db) -> User:
    user = make_user("officer")
    user.is_staff = True  # so that the admin's sign-in would admit the right password too
    user.save()
    return user


def _login(client: Client, page: str, username: str, password: str, ip: str = "198.51.100.1", **extra):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_repeated_wrong_passwords_lock_the_account_with_a_vietnamese_message(client, officer, page) -> None:
    codes = [_login(client, page, "officer", "wrong").status_code for _ in range(LIMIT)]
    assert codes == [200] * (LIMIT - 1) + [429]  # the form again with an error, then the lock
    locked = _login(client, page, "officer", "pw-officer-123")  # even the right password now
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Đăng nhập sai quá 3 lần" in body and "quản trị viên mở khoá" in body
    assert int(locked["Retry-After"]) > 0
    assert not _signed_in(client)


@pytest.mark.django_db
def test_the_lock_is_per_user_from_any_address_and_per_client_for_any_user(client, officer) -> None:
    for i in range(LIMIT):
        _login(client, "/login/", "officer", "wrong", ip=f"203.0.113.{i}")
    assert _login(client, "/login/", "officer", "pw-officer-123", ip="203.0.113.99").status_code == 429

    make_user("other")
    for i in range(LIMIT):
        _login(client, "/field/login/", f"nobody{i}", "wrong", ip="192.0.2.50")
    assert _login(client, "/field/login/", "other", "pw-other-123", ip="192.0.2.50").status_code == 429
    # Another client is not affected by that address's lock.
    assert _login(client, "/field/login/", "other", "pw-other-123", ip="192.0.2.51").status_code == 302


@pytest.mark.django_db
def test_the_english_page_says_it_in_english(client, officer) -> None:
    client.cookies["django_language"] = "en"
    for _ in range(LIMIT):
        _login(client, "/login/", "officer", "wrong")
    body = _login(client, "/login/", "officer", "wrong").content.decode()
    assert "Too many failed sign-ins" in body


@pytest.mark.django_db
def test_an_administrator_unlocks_an_account_in_the_admin(client, officer) -> None:
    for _ in range(LIMIT):
        _login(client, "/login/", "officer", "wrong")
    assert _login(client, "/login/", "officer", "pw-officer-123").status_code == 429

    from axes.models import AccessAttempt

    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root-123456"))
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "officer" in listing.content.decode()
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    confirm = {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    assert admin.post("/admin/axes/accessattempt/", confirm).status_code == 302
    assert not AccessAttempt.objects.exists()

    assert _login(client, "/login/", "officer", "pw-officer-123").status_code == 302
    assert _signed_in(client)


@pytest.mark.django_db
def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(client, officer, settings) -> None:
    # Untrusted: a guesser who varies X-Forwarded-For is still one client (its REMOTE_ADDR).
    for i in range(LIMIT):
        _login(client, "/login/", f"guess{i}", "wrong", ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert (
        _login(client, "/login/", "officer", "pw-officer-123", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.77")
    ).status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_citizen_is_their_own_client(client, officer, settings) -> None:
    settings.IOC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    for i in range(LIMIT):
        _login(client, "/login/", f"guess{i}", "wrong", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9")
    behind_same_proxy = _login(
        client, "/login/", "officer", "pw-officer-123", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.10"
    )
    assert behind_same_proxy.status_code == 302


def test_the_client_address_is_the_first_hop_a_trusted_proxy_vouches_for(rf, settings) -> None:
    settings.IOC_TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    spoofed = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7, 10.0.0.2")
    assert client_ip(spoofed) == "198.51.100.7"  # the client's own "1.2.3.4" is not believed
    assert client_ip(rf.get("/", REMOTE_ADDR="198.51.100.8", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "198.51.100.8"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="junk, 10.0.0.3")) == "10.0.0.3"
    settings.IOC_TRUSTED_PROXIES = []
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1")) == "10.0.0.1"
