"""Rates per scope and kind of request, counted in the shared cache (Redis in production).

A view names its scope (``throttle_scope = "api"`` or ``"open311"``); reads and writes count
separately (``api.read``, ``api.write`` … in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``).
A signed-in caller is counted by account, an anonymous one by client address, read the
same way as the public forms' limits (``cases.ratelimits.client_ip``, trusted proxies only).
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from cases.ratelimits import client_ip


class ScopedThrottle(SimpleRateThrottle):
    def __init__(self) -> None:
        # The scope depends on the view and the method: set in allow_request.
        pass

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        kind = "read" if request.method in SAFE_METHODS else "write"
        self.scope = f"{getattr(view, 'throttle_scope', 'api')}.{kind}"
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else f"ip-{client_ip(request)}"
        return f"api-throttle:{self.scope}:{ident}"
