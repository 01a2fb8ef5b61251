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
