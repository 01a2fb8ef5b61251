"""Per-IP and per-code limits on the public pages, counted in the shared cache (django-ratelimit,
and ``guess`` for guesses at one secret).

The client address is ``communities.security.client_ip`` (X-Forwarded-For read from the right,
``settings.TRUSTED_PROXY_COUNT`` hops, only from ``settings.TRUSTED_PROXIES``), the same one the
login lockout and the security log use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from communities.security import client_ip

Key = Callable[[str, HttpRequest], str]

# Defaults; a deployment may tune them in settings without touching the code.
REPORT_ACCEPTED_RATE = "5/10m"  # cases created from one address
REPORT_POST_RATE = "20/10m"  # any POST of the form (typos included) from one address
TRACK_IP_RATE = "10/10m"  # status-page look-ups from one address
TRACK_CODE_RATE = "10/h"  # look-ups of one tracking code from anywhere before it is guarded
TRACK_CLIENT_CODE_RATE = "5/h"  # look-ups of one tracking code from one address
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


# --- guesses at a secret that belongs to one subject (a tracking code + phone digits) ----------


@dataclass
class Guess:
    allowed: bool
    keys: tuple[str, ...]

    def succeeded(self) -> None:
        """The guess was right: it does not count against the subject or the client."""
        for key in self.keys:
            try:
                cache.decr(key)
            except ValueError:  # the window ended meanwhile
                pass


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def split_rate(rate: str) -> tuple[int, int]:
    """"10/10m" → (10, 600), the notation of django-ratelimit."""
    count, _slash, period = rate.partition("/")
    return int(count), int(period[:-1] or 1) * _PERIODS[period[-1]]


def _counted(key: str, period: int) -> int:
    for _retry in range(3):
        cache.add(key, 0, period)  # opens the window; add and incr are atomic in Redis and locmem
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            continue
        if count == 1:  # Redis' INCR recreates a key that expired after the check, without a timeout
            cache.touch(key, period)
        return count
    return 0


def guess(request: HttpRequest, *, group: str, subject: str, subject_rate: str, client_rate: str) -> Guess:
    """Count one guess at ``subject`` from this client, atomically, before the answer is checked.

    A client may try ``client_rate`` times per subject. Once the subject has had ``subject_rate``
    tries from anywhere in its window it is guarded: a client's first try on it still goes
    through (the resident with the right digits on a new phone or network gets in), any further
    try from a client that already tried is refused. Counting before checking closes the race in
    which concurrent guesses all passed a check made before any of them was counted.
    """
    subject_limit, subject_period = split_rate(subject_rate)
    client_limit, client_period = split_rate(client_rate)
    subject_key = f"guess:{group}:{subject}"
    client_key = f"guess:{group}:{subject}:{client_ip(request)}"
    tries_on_subject = _counted(subject_key, subject_period)
    tries_from_client = _counted(client_key, client_period)
    limit = client_limit if tries_on_subject <= subject_limit else 1
    return Guess(allowed=0 < tries_from_client <= limit, keys=(subject_key, client_key))
