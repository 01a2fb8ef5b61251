"""Two-factor sign-in for staff (TOTP + recovery codes), its enforcement on every staff page and
the admin, resets by a higher administrator, password rules and the forced change at first sign-in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities import twofactor
from communities.models import Role, SecurityEvent
from tests import factories as f
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"
Kind = SecurityEvent.Kind
WORKSPACE = "/workspace/"
SETUP = "/account/two-factor/"
VERIFY = "/account/two-factor/verify/"
PASSWORD_PAGE = "/account/password/"


@pytest.fixture(autouse=True)
def production_rule(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["administrator", "superuser"]


@pytest.fixture
def administrator(community):
    return f.staff(community, Role.ADMINISTRATOR)


@pytest.fixture
def worker(community):
    return f.staff(community, Role.CASEWORKER)


def code_for(device: TOTPDevice) -> str:
    """What the authenticator app shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name=twofactor.AUTHENTICATOR, confirmed=True)
    return device, twofactor._new_recovery_codes(user)


def verified(client, user):
    """Signed in with password and second factor, as a mandatory-role administrator must be."""
    _device, codes = enrolled(user) if not TOTPDevice.objects.filter(user=user).exists() else (None, None)
    codes = codes or twofactor._new_recovery_codes(user)
    client.force_login(user)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 302
    return client


def sign_in(client, user, **extra):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, **extra)


def test_the_default_rule_names_administrators_and_superusers():
    from governance import settings as production

    assert production.TWO_FACTOR_REQUIRED_ROLES == ["administrator", "superuser"]


# --- enforcement ------------------------------------------------------------------------------


def test_an_administrator_without_a_device_is_sent_to_set_one_up(client, administrator):
    assert sign_in(client, administrator).status_code == 302
    response = client.get(WORKSPACE)
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    admin_page = client.get("/admin/auth/user/")
    assert admin_page.status_code == 302 and admin_page["Location"].startswith(SETUP)
    assert client.get(SETUP).status_code == 200


def test_a_superuser_without_a_device_is_sent_to_set_one_up(client):
    get_user_model().objects.create_superuser("root-2fa", "", PASSWORD)
    client.post(reverse("login"), {"username": "root-2fa", "password": PASSWORD})
    assert client.get("/admin/")["Location"].startswith(SETUP)


def test_other_roles_may_go_without(client, worker):
    sign_in(client, worker)
    assert client.get(WORKSPACE).status_code == 200


def test_public_pages_stay_open_to_a_half_signed_in_session(client, administrator):
    sign_in(client, administrator)
    assert client.get("/track/").status_code == 200
    assert client.get("/").status_code == 200


def test_with_a_device_the_code_is_asked_after_the_password(client, worker):
    device, _codes = enrolled(worker)  # optional for a caseworker, but once set up it is used
    sign_in(client, worker)
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"] == f"{VERIFY}?next=/cases/"
    wrong = client.post(VERIFY, {"code": "000000", "next": "/cases/"})
    assert wrong.status_code == 200
    with translation.override("zh-hans"):
        assert translation.gettext("That code is not right, or was already used. Type the newest code from the app.") in wrong.content.decode()
    assert client.get(WORKSPACE).status_code == 302
    assert SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR_FAILED, user=worker).count() == 1
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the device slows repeated wrong codes down; this is the next try
    device.throttling_failure_timestamp = None
    device.save()
    right = client.post(VERIFY, {"code": code_for(device), "next": "/cases/"})
    assert right.status_code == 302 and right["Location"] == "/cases/"
    assert client.get(WORKSPACE).status_code == 200


def test_the_admin_asks_for_the_code_too(client, administrator):
    device, _codes = enrolled(administrator)
    sign_in(client, administrator)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(client, worker):
    _device, codes = enrolled(worker)
    sign_in(client, worker)
    assert client.post(VERIFY, {"code": codes[0].upper()})["Location"] == "/workspace/"
    client.post(reverse("logout"))
    sign_in(client, worker)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 200
    assert client.get(WORKSPACE).status_code == 302
    assert StaticToken.objects.filter(device__user=worker).count() == 9


def test_a_new_sign_in_asks_again(client, worker):
    device, codes = enrolled(worker)
    sign_in(client, worker)
    client.post(VERIFY, {"code": codes[1]})
    assert client.get(WORKSPACE).status_code == 200
    client.post(reverse("logout"))
    sign_in(client, worker)  # the same browser, signing in again
    assert client.get(WORKSPACE).status_code == 302


def test_the_api_keeps_its_tokens_and_refuses_an_unverified_session(client, administrator):
    enrolled(administrator)
    assert client_for(administrator).get("/api/v1/units/").status_code == 200
    sign_in(client, administrator)
    refused = client.get("/api/v1/units/")
    assert refused.status_code == 403 and refused.json()["code"] == "sign_in_incomplete"


# --- enrolment ----------------------------------------------------------------------------------


def test_enrolment_from_the_account_page(client, administrator):
    sign_in(client, administrator)
    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=administrator, confirmed=False)
    assert "<svg" in page and twofactor.secret_of(device) in page
    wrong = client.post(SETUP, {"code": "123456"})
    assert wrong.status_code == 200 and not TOTPDevice.objects.filter(confirmed=True).exists()
    with translation.override("zh-hans"):
        assert translation.gettext(
            "That code is not right. Check the time on your phone and type the newest code."
        ) in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    done = client.post(SETUP, {"code": code_for(device)})
    assert done.status_code == 200
    codes = StaticToken.objects.filter(device__user=administrator).values_list("token", flat=True)
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
    assert client.get(WORKSPACE).status_code == 200  # this session is verified with the new device
    assert SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR_ENROLLED, user=administrator).exists()


def test_new_recovery_codes_replace_the_old(client, worker):
    _device, old = enrolled(worker)
    sign_in(client, worker)
    client.post(VERIFY, {"code": old[0]})
    client.post("/account/two-factor/recovery-codes/")
    assert not StaticToken.objects.filter(token__in=old).exists()
    assert StaticToken.objects.filter(device__user=worker).count() == 10


# --- a lost device --------------------------------------------------------------------------------


def test_a_higher_administrator_resets_a_lost_device(client, street, community, administrator):
    enrolled(administrator)
    higher = f.staff(street, Role.ADMINISTRATOR)
    verified(client, higher)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [administrator.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=administrator).exists()
    event = SecurityEvent.objects.get(kind=Kind.TWO_FACTOR_RESET)
    assert event.user == administrator and event.detail["by"] == higher.username
    # next sign-in: set up a new phone (the role requires it)
    person = Client()
    sign_in(person, administrator)
    assert person.get(WORKSPACE)["Location"].startswith(SETUP)


def test_a_peer_a_superior_or_oneself_is_not_reset(client, street, community, administrator):
    enrolled(administrator)
    peer = f.staff(community, Role.ADMINISTRATOR)
    verified(client, peer)
    client.post(reverse("admin:auth_user_changelist"),
                {"action": "reset_two_factor", "_selected_action": [administrator.pk, peer.pk]})
    assert TOTPDevice.objects.filter(user=administrator).exists()
    superior = f.staff(street, Role.ADMINISTRATOR)
    enrolled(superior)
    client.post(reverse("admin:auth_user_changelist"),
                {"action": "reset_two_factor", "_selected_action": [superior.pk]})
    assert TOTPDevice.objects.filter(user=superior).exists()
    assert TOTPDevice.objects.filter(user=peer).exists()
    assert not SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR_RESET).exists()


def test_an_administrator_of_a_sibling_unit_cannot_reset(client, sibling_community, worker):
    enrolled(worker)
    verified(client, f.staff(sibling_community, Role.ADMINISTRATOR))
    response = client.post(reverse("admin:auth_user_changelist"),
                           {"action": "reset_two_factor", "_selected_action": [worker.pk]})
    assert response.status_code == 302 and response["Location"] == reverse("admin:auth_user_changelist")
    assert TOTPDevice.objects.filter(user=worker).exists()


# --- passwords ----------------------------------------------------------------------------------


def test_passwords_need_length_and_several_kinds_of_characters(settings):
    with pytest.raises(ValidationError) as short:
        validate_password("Ab1-")
    assert "password_too_short" in [error.code for error in short.value.error_list]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as simple:
        validate_password("onlylowercaseletters")
    assert any("至少" in message for message in simple.value.messages)
    validate_password("Yanshan-2024-ok")  # no error


def test_an_account_made_in_the_admin_chooses_its_own_password_at_first_sign_in(client, community, administrator):
    verified(client, administrator)
    response = client.post(reverse("admin:auth_user_add"), {
        "username": "new-caseworker", "password1": "Set-by-admin-2024", "password2": "Set-by-admin-2024",
        "usable_password": "true",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    newcomer = get_user_model().objects.get(username="new-caseworker")
    person = Client()
    person.post(reverse("login"), {"username": "new-caseworker", "password": "Set-by-admin-2024"})
    assert person.get(WORKSPACE)["Location"].startswith(PASSWORD_PAGE)
    refused = person.post(PASSWORD_PAGE, {
        "old_password": "Set-by-admin-2024", "new_password1": "simple", "new_password2": "simple",
    })
    assert refused.status_code == 200
    changed = person.post(PASSWORD_PAGE, {
        "old_password": "Set-by-admin-2024", "new_password1": "My-own-Pass-77", "new_password2": "My-own-Pass-77",
    })
    assert changed.status_code == 302
    assert person.get(WORKSPACE).status_code == 200
    assert not twofactor.must_change_password(newcomer)


def test_an_import_marks_accounts_to_change_their_password(client, worker):
    twofactor.require_password_change(worker)
    sign_in(client, worker)
    assert client.get("/cases/")["Location"].startswith(PASSWORD_PAGE)
