"""Two-factor sign-in in a real browser: an administrator (for whom it is mandatory) sets it up
by scanning (here: reading) the key, signs out, signs in with a code, a wrong code is refused,
and a recovery code works once."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP

from communities.models import Role, SecurityEvent
from tests import factories as f

from .steps import PASSWORD


@pytest.fixture(autouse=True)
def production_rule(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["administrator", "superuser"]


def code(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for ``secret`` (base32), ``steps_ahead`` 30-second steps on."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = TOTP(key)
    counter.time = time.time() + 30 * steps_ahead
    return f"{counter.token():06d}"


def password_step(page, base, user) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")


def sign_out(page, base) -> None:
    if not page.url.startswith(f"{base}/workspace/"):
        page.goto(f"{base}/workspace/")
    page.locator("details.user-menu summary").click()
    page.locator("details.user-menu form button[type=submit]").click()
    page.wait_for_load_state()


def test_enrol_sign_out_sign_in_with_a_code_and_a_recovery_code(live_server, page, community):
    base = live_server.url
    administrator = f.staff(community, Role.ADMINISTRATOR)

    # First sign-in: the role requires a second factor, so the portal asks to set one up.
    password_step(page, base, administrator)
    page.wait_for_url(re.compile(r"/account/two-factor/\?next=/workspace/$"))
    assert page.locator(".two-factor-qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#id_code", code(secret))
    page.click("main form button[type=submit]")
    codes = [item.inner_text().strip() for item in page.locator(".recovery-codes code").all()]
    assert len(codes) == 10
    page.get_by_role("button", name="我已保存").click()
    page.wait_for_url(f"{base}/workspace/")
    sign_out(page, base)

    # Signing in again: password, then a code from the app; a wrong one is refused.
    password_step(page, base, administrator)
    page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
    page.fill("#id_code", "000000")
    page.click("main form button[type=submit]")
    page.locator(".field-error").wait_for()
    assert "验证码不正确" in page.locator(".field-error").inner_text()
    page.goto(f"{base}/admin/")
    assert "/account/two-factor/verify/" in page.url  # still not signed in
    time.sleep(1.1)  # the device slows repeated wrong codes down: one second after the first
    page.fill("#id_code", code(secret, steps_ahead=1))  # the next step: the enrolment used this one
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    sign_out(page, base)

    # A lost phone: a recovery code works, once.
    password_step(page, base, administrator)
    page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
    page.fill("#id_code", codes[0])
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/workspace/")
    sign_out(page, base)
    password_step(page, base, administrator)
    page.wait_for_url(re.compile(r"/account/two-factor/verify/"))
    page.fill("#id_code", codes[0])
    page.click("main form button[type=submit]")
    page.locator(".field-error").wait_for()
    assert "/account/two-factor/verify/" in page.url
    assert SecurityEvent.objects.filter(user=administrator, kind=SecurityEvent.Kind.TWO_FACTOR_FAILED).count() == 2
