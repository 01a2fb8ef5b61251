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
from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
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
    """The client's address: REMOTE_ADDR, or an X-Forwarded-For entry when REMOTE_ADDR is a trusted proxy.

    The portal runs behind a load balancer that terminates TLS (see README), so REMOTE_ADDR is the
    balancer's address for everyone. Each proxy appends the address it received the request from to
    X-Forwarded-For. The header is read only when the request came from an address in
    ``settings.TRUSTED_PROXIES`` (a client reaching gunicorn directly writes whatever it likes
    there), and then from the right, at most ``settings.TRUSTED_PROXY_COUNT`` hops, each hop passed
    only while the address that wrote it is itself trusted. Anything further left was written by
    the client and can be forged; never taking the leftmost entry keeps a client from choosing its
    own rate-limit or lockout key.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0 or not _is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [part for part in forwarded if part]
    if len(hops) < proxies:
        return remote
    client = remote
    for _hop in range(proxies):
        if not _is_trusted_proxy(client) or not hops:
            break
        client = hops.pop()
    try:
        return str(ipaddress.ip_address(client))
    except ValueError:
        return remote


def _trusted_networks() -> list:
    configured = tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ())
    cached = getattr(_trusted_networks, "cache", None)
    if cached is None or cached[0] != configured:
        networks = [ipaddress.ip_network(entry.strip(), strict=False) for entry in configured if entry.strip()]
        _trusted_networks.cache = cached = (configured, networks)
    return cached[1]


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks())


# --- failed credentials per client address ---------------------------------------------------
# Wrong passwords and refused API tokens from one address, whatever the account: a password
# spray (a few tries on each of many accounts) stays under the per-account lockout, so the address
# is locked too, at a higher limit because a street's offices share one NAT address.


def _address_key(request: HttpRequest) -> str:
    return f"auth-failures:{client_ip(request)}"


def _address_limit() -> int:
    return int(getattr(settings, "AUTH_FAILURES_PER_ADDRESS", 30))


def _address_window() -> int:
    return int(getattr(settings, "AUTH_FAILURES_WINDOW_SECONDS", 15 * 60))


def count_address_failure(request: HttpRequest) -> int:
    """One more failed credential from the request's address; returns the count in the window."""
    key = _address_key(request)
    for _retry in range(3):
        cache.add(key, 0, _address_window())  # opens the window; atomic in Redis and locmem
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            continue
        if count == 1:  # Redis' INCR recreates a key that expired after the check, without a timeout
            cache.touch(key, _address_window())
        return count
    return 0


def address_failures_retry_after() -> int:
    return _address_window()


def address_locked(request: HttpRequest) -> bool:
    """True when the request's address has used up its failed credentials for the window."""
    return (cache.get(_address_key(request)) or 0) >= _address_limit()


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
    if request is not None:
        count_address_failure(request)


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
    if getattr(request, "portal_address_locked", False):
        context = {"address_locked": True, "cooloff_minutes": max(1, _address_window() // 60)}
    return render(request, "registration/locked_out.html", context, status=429)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS. A login without a request (the test
    client's ``login()``, a shell) comes from no address an attacker controls: it is let through
    to the password check instead of raising."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        super().authenticate(request, username=username, password=password, **kwargs)  # raises when locked
        if address_locked(request):
            # Too many failures from this address, whatever the accounts (a password spray).
            request.axes_locked_out = True
            request.portal_address_locked = True
            request.axes_credentials = {"username": username}
            log_event(Kind.LOCKED_OUT, request=request, user=_account(username or ""), username=username or "",
                      detail={"address": client_ip(request)})
            raise AxesBackendPermissionDenied("Too many failed logins from this address")
        return None
