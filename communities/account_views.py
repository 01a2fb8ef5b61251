"""The signed-in user's own account: two-factor sign-in (set up, verify, recovery codes) and password.

Thin views over ``communities.twofactor``; ``governance.middleware.TwoFactorMiddleware`` sends a
user here when a step of signing in is due.
"""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import twofactor

DEFAULT_NEXT = "communities:workspace"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text=_("The six digits your authenticator app shows now, or one of your recovery codes."),
    )


class SetupForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"), max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def _continue(request: HttpRequest) -> HttpResponse:
    return redirect(_next(request) or DEFAULT_NEXT)


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "has_device": twofactor.has_device(user),
        "required": twofactor.is_required(user),
        "recovery_left": twofactor.recovery_codes_left(user),
    }
    return render(request, "communities/account/account.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret), then type the first code to confirm."""
    user = request.user
    if twofactor.has_device(user) and not user.is_verified():
        return redirect("communities:two_factor_verify")  # replacing a device needs the old one first
    device = twofactor.start_enrolment(user=user)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.confirm_enrolment(request=request, user=user, code=form.cleaned_data["code"])
        except twofactor.TwoFactorRefused as refusal:
            form.add_error("code", refusal.message)
        else:
            return render(request, "communities/account/recovery_codes.html",
                          {"codes": codes, "next": _next(request), "enrolled": True})
    qr = segno.make(device.config_url, error="m", micro=False)
    context = {
        "form": form,
        "qr_svg": mark_safe(qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=False)),
        "secret": twofactor.secret_of(device),
        "required": twofactor.is_required(user),
        "next": _next(request),
    }
    return render(request, "communities/account/setup.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in."""
    user = request.user
    if user.is_verified():
        return _continue(request)
    if not twofactor.has_device(user):  # reset meanwhile: set up again if the role requires it
        twofactor.session_state(request, user)
        return _continue(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.verify(request=request, user=user, code=form.cleaned_data["code"]):
            return _continue(request)
        form.add_error("code", _("That code is not right, or was already used. Type the newest code from the app."))
    return render(request, "communities/account/verify.html", {"form": form, "next": _next(request)})


@never_cache
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once (the old ones stop working)."""
    try:
        codes = twofactor.new_recovery_codes(request=request, user=request.user)
    except twofactor.TwoFactorRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("communities:account")
    return render(request, "communities/account/recovery_codes.html", {"codes": codes, "enrolled": False})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # this session stays; the others end
        twofactor.password_changed(request=request, user=user)
        messages.success(request, _("Your password was changed."))
        return _continue(request)
    context = {"form": form, "forced": bool(request.session.get(twofactor.PASSWORD_KEY)), "next": _next(request)}
    return render(request, "communities/account/password_change.html", context)
