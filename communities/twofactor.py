"""Two-factor sign-in (TOTP with recovery codes, django-otp) and the forced password change.

Who must use a second factor is a setting (``TWO_FACTOR_REQUIRED_ROLES``: role names, plus
"superuser"); anyone else may enrol from their account page, and once enrolled must verify too.
What a session still has to do is decided at sign-in and kept in the session
(``session_state``), so a page costs no query for it; the ``TwoFactorMiddleware`` in
``governance.middleware`` sends the user to the step that is due before any staff page.

Every change here is one transaction with the rows locked, and the security log says who did
what: set up, wrong codes, a reset by an administrator.
"""

from __future__ import annotations

import base64

import django_otp
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import selectors
from .models import AccountSecurity, Post, Role, SecurityEvent

Kind = SecurityEvent.Kind
SUPERUSER = "superuser"
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"
RECOVERY_CODES = 10

# Session keys: what this sign-in still has to do.
STEP_KEY = "portal_2fa_step"
PASSWORD_KEY = "portal_must_change_password"
VERIFY, ENROL, DONE = "verify", "enrol", "done"


class TwoFactorRefused(Exception):
    """An action the rules do not allow, with a message for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --- rules ----------------------------------------------------------------------------------


def required_roles() -> set[str]:
    return set(getattr(settings, "TWO_FACTOR_REQUIRED_ROLES", [Role.ADMINISTRATOR, SUPERUSER]))


def is_required(user) -> bool:
    """Must this account sign in with a second factor (``TWO_FACTOR_REQUIRED_ROLES``)?"""
    roles = required_roles()
    if not roles or not user.is_authenticated:
        return False
    if user.is_superuser and SUPERUSER in roles:
        return True
    return any(post.role in roles for post in selectors.posts_of(user))


def authenticator(user, *, confirmed: bool | None = True) -> TOTPDevice | None:
    devices = TOTPDevice.objects.devices_for_user(user, confirmed=confirmed).filter(name=AUTHENTICATOR)
    return devices.order_by("-pk").first()


def has_device(user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


def must_change_password(user) -> bool:
    return AccountSecurity.objects.filter(user=user, must_change_password=True).exists()


def session_state(request: HttpRequest, user) -> None:
    """Decide what this sign-in still has to do (called at login and for sessions without it)."""
    if has_device(user):
        step = VERIFY
    elif is_required(user):
        step = ENROL
    else:
        step = DONE
    request.session[STEP_KEY] = step
    request.session[PASSWORD_KEY] = must_change_password(user)


def on_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: a new sign-in starts unverified, whatever the session held before."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
        session_state(request, user)


# --- enrolment and verification ---------------------------------------------------------------


@transaction.atomic
def start_enrolment(*, user) -> TOTPDevice:
    """The unconfirmed authenticator the enrolment page shows (one per user, kept until confirmed)."""
    device = authenticator(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The secret as typed into an authenticator app: base32, no padding."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


@transaction.atomic
def confirm_enrolment(*, request: HttpRequest, user, code: str) -> list[str]:
    """The first code from the new authenticator proves it works: confirm it, replace any earlier
    device, and return fresh recovery codes (shown once). The session is verified with it."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, name=AUTHENTICATOR, confirmed=False).first()
    if device is None:
        raise TwoFactorRefused(_("Open the set-up page again: the code it showed has been replaced."))
    if not device.verify_token(_digits(code)):
        raise TwoFactorRefused(_("That code is not right. Check the time on your phone and type the newest code."))
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    _log(Kind.TWO_FACTOR_ENROLLED, request=request, user=user)
    django_otp.login(request, device)
    request.session[STEP_KEY] = DONE
    return codes


@transaction.atomic
def new_recovery_codes(*, request: HttpRequest, user) -> list[str]:
    """Replace the recovery codes (the old ones stop working); only for a verified session."""
    if not has_device(user):
        raise TwoFactorRefused(_("Set up two-factor sign-in first."))
    return _new_recovery_codes(user)


def _new_recovery_codes(user) -> list[str]:
    device, _created = StaticDevice.objects.select_for_update().get_or_create(
        user=user, name=RECOVERY, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def verify(*, request: HttpRequest, user, code: str) -> bool:
    """A code from the authenticator, or a recovery code (each works once). True when accepted;
    the session is then verified. A wrong code is logged (the devices slow repeated tries down)."""
    code = (code or "").strip()
    device = None
    with transaction.atomic():
        totp = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if totp is not None and _digits(code).isdigit() and totp.verify_token(_digits(code)):
            device = totp
        else:
            recovery = StaticDevice.objects.select_for_update().filter(user=user, name=RECOVERY).first()
            if recovery is not None and recovery.verify_token(code.lower().replace(" ", "")):
                device = recovery
    if device is None:
        _log(Kind.TWO_FACTOR_FAILED, request=request, user=user)
        return False
    django_otp.login(request, device)
    request.session.cycle_key()
    request.session[STEP_KEY] = DONE
    return True


def _digits(code: str) -> str:
    return "".join((code or "").split())


# --- administrators ---------------------------------------------------------------------------


def may_reset(actor, target) -> bool:
    """A lost device is reset by a higher administrator: never one's own, never a peer's.

    The caller has already checked that ``target`` is in the actor's part of the tree (the user
    admin's queryset and change permission). A superuser's device is reset by a superuser.
    """
    if actor.pk == target.pk:
        return False
    if actor.is_superuser:
        return True
    if target.is_superuser:
        return False
    roots = selectors.subtree_paths(actor) or []
    held = Post.objects.active().filter(user=target, role=Role.ADMINISTRATOR).values_list("unit__path", flat=True)
    return not any(path in roots for path in held)


@transaction.atomic
def reset(*, user, by, request: HttpRequest | None = None) -> int:
    """Remove every second factor of ``user`` (a lost phone); they enrol again at next sign-in
    if their role requires it. Returns how many devices were removed."""
    if not may_reset(by, user):
        raise TwoFactorRefused(_("Only a higher administrator may reset this account's two-factor sign-in."))
    removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    _log(Kind.TWO_FACTOR_RESET, request=request, user=user, detail={"by": by.get_username(), "devices": removed})
    return removed


# --- passwords ----------------------------------------------------------------------------------


@transaction.atomic
def require_password_change(user) -> None:
    """Mark ``user`` to choose a new password at their next sign-in (an account an administrator
    created or reset, or one an import created)."""
    record, _created = AccountSecurity.objects.select_for_update().get_or_create(user=user)
    if not record.must_change_password:
        record.must_change_password = True
        record.save(update_fields=["must_change_password"])


@transaction.atomic
def password_changed(*, request: HttpRequest | None, user) -> None:
    """The user chose their own password: the mark is lifted."""
    record, _created = AccountSecurity.objects.select_for_update().get_or_create(user=user)
    record.must_change_password = False
    record.password_changed_at = timezone.now()
    record.save(update_fields=["must_change_password", "password_changed_at"])
    if request is not None and hasattr(request, "session"):
        request.session[PASSWORD_KEY] = False


def _log(kind: str, *, request, user, detail: dict | None = None) -> None:
    from .security import log_event

    log_event(kind, request=request, user=user, detail=detail)
