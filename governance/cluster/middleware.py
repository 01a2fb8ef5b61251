"""Send heavy read-only pages to a replica, with read-your-writes and fallback to the primary.

Keep this middleware after the session and authentication middleware: it loads the user and the
session from the primary before a request's reads may move to a replica, so a login that the
replica has not replayed yet never looks like a logged-out user.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import DatabaseError

from . import routing

SESSION_KEY = "portal_primary_until"
COOKIE_NAME = "portal_primary_until"
SAFE_METHODS = ("GET", "HEAD")


def eligible(view_name: str) -> bool:
    for pattern in settings.DATABASE_REPLICA_VIEWS:
        if pattern.endswith("*") and view_name.startswith(pattern[:-1]):
            return True
        if view_name == pattern:
            return True
    return False


def primary_until(request) -> float:
    """Until when this browser's reads stay on the primary (its own recent write)."""
    value = None
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        value = session.get(SESSION_KEY)
    if value is None:
        value = request.COOKIES.get(COOKIE_NAME)
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


class ReplicaReadMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not routing.replica_aliases():
            return self.get_response(request)
        token = routing.begin()
        try:
            response = self.get_response(request)
            state = routing.current()
        finally:
            routing.end(token)
        if state.wrote:
            self._remember_write(request, response)
        if state.eligible and settings.DATABASE_REPLICA_HEADER:
            response["X-Portal-Database"] = "replica" if state.read_replica else "primary"
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        state = routing.current()
        if state is None or request.method not in SAFE_METHODS:
            return None
        match = getattr(request, "resolver_match", None)
        if match is None or not eligible(match.view_name):
            return None
        state.eligible = True
        if primary_until(request) > time.time():
            return None  # read-your-writes: this browser wrote a moment ago
        # The user and the session come from the primary, before reads may move.
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018 - evaluates the lazy user now
        state.replica = routing.choose_replica()
        return None

    def process_exception(self, request, exception):
        """A replica that failed mid-request: answer the same GET again from the primary."""
        state = routing.current()
        if state is None or state.replica is None or state.wrote or not isinstance(exception, DatabaseError):
            return None
        routing.mark_down(state.replica)
        state.replica = None
        state.read_replica = False
        match = request.resolver_match
        response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        return response

    def _remember_write(self, request, response) -> None:
        until = time.time() + settings.DATABASE_REPLICA_STICKY_SECONDS
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            session[SESSION_KEY] = until
        else:
            # Residents have no session (a submission writes no session row): a short cookie.
            response.set_cookie(
                COOKIE_NAME, f"{until:.3f}", max_age=settings.DATABASE_REPLICA_STICKY_SECONDS,
                httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
            )
