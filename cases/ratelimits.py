"""Per-IP and per-code limits on the public pages, counted by django-ratelimit in the shared cache.

The client address is ``communities.security.client_ip`` (X-Forwarded-For read from the right,
``settings.TRUSTED_PROXY_COUNT`` hops), the same one the login lockout and the security log use.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from communities.security import client_ip

Key = Callable[[str, HttpRequest], str]

# Defaults; a deployment may tune them in settings without touching the code.
REPORT_ACCEPTED_RATE = "5/10m"  # cases created from one address
REPORT_POST_RATE = "20/10m"  # any POST of the form (typos included) from one address
TRACK_IP_RATE = "10/10m"  # status-page look-ups from one address
TRACK_CODE_RATE = "10/h"  # failed look-ups of one tracking code, from anywhere
RESIDENT_POST_RATE = "10/10m"  # added information and ratings from one address


def rate_for(name: str) -> str:
    return getattr(settings, f"PUBLIC_{name}", globals()[name])


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
