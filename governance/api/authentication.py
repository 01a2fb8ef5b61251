"""Token authentication that counts refused tokens against the caller's address.

A guessed token is a failed credential like a wrong password: each refusal counts in the same
per-address counter as failed logins (``communities.security.count_address_failure``), and an
address over the limit gets 429 for any token until its window ends, the right one included.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from communities.security import address_failures_retry_after, address_locked, count_address_failure

ADDRESS_LOCKED = _("Too many refused credentials from this address. Try again later.")


class CountedTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: the session (or nothing) decides
        if address_locked(request):
            raise exceptions.Throttled(wait=address_failures_retry_after(), detail=str(ADDRESS_LOCKED))
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            count_address_failure(request)
            raise
