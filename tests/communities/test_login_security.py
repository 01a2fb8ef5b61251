"""Staff login under abuse: lockout per account and address, unlock by an administrator,
idle sessions ended, other sessions ended by a password change, cookie flags."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from communities.models import Role, SecurityEvent
from governance.middleware import LAST_SEEN
from tests import factories as f

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"
Kind = SecurityEvent.Kind


@pytest.fixture
def worker(community):
    return f.staff(community, Role.CASEWORKER)


def attempt(client, username: str, password: str, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def test_five_wrong_passwords_lock_the_account_on_that_address(client, worker, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert attempt(client, worker.username, "wrong").status_code == 200
    locked = attempt(client, worker.username, "wrong")
    assert locked.status_code == 429
    assert "登录已锁定" in locked.content.decode()
    # The right password no longer helps while locked.
    assert attempt(client, worker.username, PASSWORD).status_code == 429
    kinds = list(SecurityEvent.objects.filter(user=worker).values_list("kind", flat=True))
    # Every try while locked is logged as a lockout again.
    assert kinds.count(Kind.LOGIN_FAILED) == 6 and kinds.count(Kind.LOCKED_OUT) == 2


def test_the_lockout_counts_the_client_behind_the_proxy_not_the_proxy(client, worker, settings):
    """Behind one load balancer every request comes from its address; the client's is the last
    X-Forwarded-For entry. A lockout from one office does not lock the same account elsewhere,
    and a forged leftmost entry does not dodge the count."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.AXES_FAILURE_LIMIT = 3
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        response = attempt(client, worker.username, "wrong", HTTP_X_FORWARDED_FOR=f"{forged}, 10.1.1.7", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert SecurityEvent.objects.filter(kind=Kind.LOCKED_OUT, ip="10.1.1.7").exists()
    elsewhere = attempt(client, worker.username, PASSWORD, HTTP_X_FORWARDED_FOR="10.2.2.9", REMOTE_ADDR="10.0.0.1")
    assert elsewhere.status_code == 302


def test_a_success_clears_the_earlier_failures(client, worker, settings):
    settings.AXES_FAILURE_LIMIT = 3
    attempt(client, worker.username, "wrong")
    attempt(client, worker.username, "wrong")
    assert attempt(client, worker.username, PASSWORD).status_code == 302
    client.logout()
    attempt(client, worker.username, "wrong")
    assert attempt(client, worker.username, PASSWORD).status_code == 302


def test_an_administrator_unlocks_an_account_in_their_subtree(client, worker, community, settings):
    settings.AXES_FAILURE_LIMIT = 2
    attempt(client, worker.username, "wrong")
    assert attempt(client, worker.username, "wrong").status_code == 429
    admin_user = f.staff(community, Role.ADMINISTRATOR)
    admin_client = type(client)()
    admin_client.force_login(admin_user)
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "unlock_login", "_selected_action": [worker.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert attempt(client, worker.username, PASSWORD).status_code == 302
    unlocked = SecurityEvent.objects.get(kind=Kind.UNLOCKED)
    assert unlocked.user == worker and unlocked.detail["by"] == admin_user.username


def test_an_administrator_cannot_unlock_someone_outside_their_subtree(client, community, sibling_community):
    outsider = f.staff(sibling_community, Role.CASEWORKER)
    client.force_login(f.staff(community, Role.ADMINISTRATOR))
    client.post(reverse("admin:auth_user_changelist"), {"action": "unlock_login", "_selected_action": [outsider.pk]})
    assert not SecurityEvent.objects.filter(kind=Kind.UNLOCKED).exists()


def test_an_idle_session_is_logged_out(client, worker, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    client.force_login(worker)
    workspace = reverse("communities:workspace")
    assert client.get(workspace).status_code == 200
    session = client.session
    session[LAST_SEEN] = int(time.time()) - 601
    session.save()
    response = client.get(workspace)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_activity_keeps_the_session_alive(client, worker, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    client.force_login(worker)
    session = client.session
    session[LAST_SEEN] = int(time.time()) - 500
    session.save()
    assert client.get(reverse("communities:workspace")).status_code == 200
    assert client.session[LAST_SEEN] >= int(time.time()) - 5


def test_a_password_change_ends_the_other_sessions(client, worker):
    client.force_login(worker)
    workspace = reverse("communities:workspace")
    assert client.get(workspace).status_code == 200
    user = get_user_model().objects.get(pk=worker.pk)
    user.set_password("a-new-password-456")
    user.save()
    assert client.get(workspace).status_code == 302


def test_session_cookie_is_http_only_same_site_and_ends_with_the_browser(client, worker):
    response = attempt(client, worker.username, PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["expires"] and not cookie["max-age"]


# --- password spraying: failures per address, whatever the account (issue 17, item 8) --------


def test_a_password_spray_from_one_address_is_locked(client, community, settings):
    """80 wrong passwords over 20 accounts (4 each, under the per-account limit of 5) from one
    address: the address is locked once it has used up AUTH_FAILURES_PER_ADDRESS, for every
    account, the right password included; another address is not affected."""
    settings.AXES_FAILURE_LIMIT = 5
    settings.AUTH_FAILURES_PER_ADDRESS = 30
    accounts = [f.staff(community, Role.CASEWORKER) for _ in range(20)]
    statuses = [
        attempt(client, account.username, f"guess-{n}", REMOTE_ADDR="198.51.100.66").status_code
        for n in range(4) for account in accounts
    ]
    assert statuses[:30] == [200] * 30
    assert set(statuses[30:]) == {429}
    spared = f.staff(community, Role.CASEWORKER)
    refused = attempt(client, spared.username, PASSWORD, REMOTE_ADDR="198.51.100.66")
    assert refused.status_code == 429
    assert "登录" in refused.content.decode() and "网络" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    elsewhere = attempt(type(client)(), spared.username, PASSWORD, REMOTE_ADDR="198.51.100.67")
    assert elsewhere.status_code == 302
    assert SecurityEvent.objects.filter(kind=Kind.LOCKED_OUT, detail__address="198.51.100.66").exists()


def test_the_address_lock_ends_with_its_window(client, worker, settings):
    settings.AUTH_FAILURES_PER_ADDRESS = 2
    settings.AUTH_FAILURES_WINDOW_SECONDS = 60
    for name in ("a", "b"):
        attempt(client, name, "wrong")
    assert attempt(client, worker.username, PASSWORD).status_code == 429
    from django.core.cache import cache

    cache.clear()  # what the window's expiry does in the cache
    assert attempt(client, worker.username, PASSWORD).status_code == 302
