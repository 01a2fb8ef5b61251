"""Per-IP and per-code limits on the public pages, counted by django-ratelimit in the shared cache.

The client address: the portal runs behind a load balancer that terminates TLS (see README), so
REMOTE_ADDR is the balancer's address for every resident. Each proxy in front of the app appends
the address it received the request from to X-Forwarded-For, so with N trusted proxies the client
is the N-th address from the right; anything further left was written by the client and can be
forged. ``settings.TRUSTED_PROXY_COUNT`` (default 0: no proxy, use REMOTE_ADDR) says how many
proxies there are. Counting from the right, never taking the leftmost entry, is what keeps a
resident (or a bot) from picking their own rate-limit key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

Key = Callable[[str, HttpRequest], str]

# Defaults; a deployment may tune them in settings without touching the code.
REPORT_ACCEPTED_RATE = "5/10m"  # cases created from one address
REPORT_POST_RATE = "20/10m"  # any POST of the form (typos included) from one address
TRACK_IP_RATE = "10/10m"  # status-page look-ups from one address
TRACK_CODE_RATE = "10/h"  # failed look-ups of one tracking code, from anywhere
RESIDENT_POST_RATE = "10/10m"  # added information and ratings from one address


def rate_for(name: str) -> str:
    return getattr(settings, f"PUBLIC_{name}", globals()[name])


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def fixed_key(value: str) -> Key:
    return lambda group, request: value


def hit(request: HttpRequest, *, group: str, rate: str, key: Key = ip_key) -> bool:
    """Count one more use; True when this use is over the limit."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    return bool(usage and usage["should_limit"])


def exhausted(request: HttpRequest, *, group: str, rate: str, key: Key = ip_key) -> bool:
    """True when the next use would be over the limit (does not count a use)."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=False)
    return bool(usage and usage["count"] >= usage["limit"])
