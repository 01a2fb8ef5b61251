"""Generation tokens: entries in the shared cache kept under a token that a write replaces.

Whoever shares something read from the database (who is asking, the public form's lists)
stores it under the current token; any write that changes it renews the token, which orphans
every entry of the old one at once (they expire). A write renews it twice: at once, and again
once it commits, because a request may read the old rows between the two and store them under
the first new token: the second orphans them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


class Generation:
    """The token under ``key`` in the shared cache; ``adopt`` hears every token this process renews or reads."""

    def __init__(self, key: str, *, adopt: Callable[[str], None] | None = None) -> None:
        self.key = key
        self.adopt = adopt

    def invalidate(self, **_signal) -> None:
        """Renew now and once the change commits (a signal receiver, or called after a bulk write)."""
        self.renew()
        transaction.on_commit(self.renew)

    def renew(self) -> None:
        token = uuid.uuid4().hex
        try:
            cache.set(self.key, token, None)
        except Exception:
            logger.exception("The generation %s was not renewed", self.key)
            return
        if self.adopt is not None:
            self.adopt(token)

    def current(self, found: str | None = None) -> str:
        """The token (``found``: already read with other keys in one round trip), added if the cache has none.

        Raises what the cache raises: the caller decides what to do without one.
        """
        token = found if found is not None else cache.get(self.key)
        if token is None:
            token = uuid.uuid4().hex
            if not cache.add(self.key, token, None):
                token = cache.get(self.key) or token
        if self.adopt is not None:
            self.adopt(token)
        return token
