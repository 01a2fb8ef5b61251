"""The security log: who failed to log in, was locked out, was refused, opened personal data.

Every entry is a ``SecurityEvent`` row (append-only: see the model) and a line on the
``portal.security`` logger, which settings can send to a file of its own (SECURITY_LOG_FILE),
so the trail survives in two places. ``client_ip`` is the one definition of the client's
address behind the load balancer, for the log, the login lockout and the per-IP rate limits.

An entry written during a request without being handed the request (a service logging a
reveal) still says where it came from: ``governance.middleware.SecurityLogMiddleware`` binds
each request for its duration (``request_scope``) and ``log_event`` reads it.
"""

from __future__ import annotations

import ipaddress
import logging
from contextlib import contextmanager
from contextvars import ContextVar

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors
from .models import PATH_SEPARATOR, SecurityEvent

logger = logging.getLogger("portal.security")
Kind = SecurityEvent.Kind
_current_request: ContextVar[HttpRequest | None] = ContextVar("security_current_request", default=None)


@contextmanager
def request_scope(request: HttpRequest):
    """While the request is handled, entries logged without it still carry its address and path."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def client_ip(request: HttpRequest) -> str:
    """The client's address, ``settings.TRUSTED_PROXY_COUNT`` hops from the right of X-Forwarded-For.

    The portal runs behind a load balancer that terminates TLS (see README), so REMOTE_ADDR is the
    balancer's address for everyone. Each proxy appends the address it received the request from
    to X-Forwarded-For, so with N trusted proxies the client is the N-th address from the right;
    anything further left was written by the client and can be forged. Counting from the right,
    never taking the leftmost entry, keeps a client from choosing their own rate-limit or lockout key.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote


def workplace_path(user) -> str:
    """The common ancestor of the user's posts ("" for superusers and people without a post)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    paths = selectors.subtree_paths(user)
    if not paths:
        return ""
    common = paths[0].strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    for path in paths[1:]:
        parts = path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
        end = 0
        while end < min(len(common), len(parts)) and common[end] == parts[end]:
            end += 1
        common = common[:end]
    return PATH_SEPARATOR + PATH_SEPARATOR.join(common) + PATH_SEPARATOR if common else ""


def log_event(
    kind: str, *, request: HttpRequest | None = None, user=None, username: str = "", detail: dict | None = None,
) -> SecurityEvent:
    """Append one entry; ``request`` defaults to the one being handled, ``user`` to its user when signed in."""
    if request is None:
        request = _current_request.get()
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    if user is not None and not username:
        username = user.get_username()
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=username[:150],
        ip=client_ip(request) if request is not None else None,
        method=request.method[:8] if request is not None else "",
        path=request.get_full_path()[:500] if request is not None else "",
        unit_path=workplace_path(user),
        detail=detail or {},
    )
    if request is not None:
        request.security_logged = True  # SecurityLogMiddleware adds no second entry for the same refusal
    logger.warning(
        "%s user=%s ip=%s %s %s %s", kind, event.username or "-", event.ip or "-",
        event.method or "-", event.path or "-", event.detail or "",
    )
    return event


def _account(username: str):
    if not username:
        return None
    return get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()


@receiver(user_login_failed, dispatch_uid="portal-security-login-failed")
def _login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    username = str(credentials.get("username", ""))
    log_event(Kind.LOGIN_FAILED, request=request, user=_account(username), username=username)


def _locked_out(sender, request: HttpRequest | None = None, username: str = "", ip_address: str = "", **kwargs) -> None:
    log_event(
        Kind.LOCKED_OUT, request=request, user=_account(username or ""), username=username or "",
        detail={"ip_address": ip_address} if ip_address else None,
    )


def connect_lockout_signal() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="portal-security-locked-out")


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """The page a locked-out login gets (settings.AXES_LOCKOUT_CALLABLE), translated."""
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(cooloff.total_seconds() // 60) if cooloff else None,
    }
    return render(request, "registration/locked_out.html", context, status=429)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS. A login without a request (the test
    client's ``login()``, a shell) comes from no address an attacker controls: it is let through
    to the password check instead of raising."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
