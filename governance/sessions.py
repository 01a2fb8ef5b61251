"""Sessions read from the shared cache and written through to the database (Django's ``cached_db``).

A page then reads its session from Redis instead of the database; a Redis restart loses nothing
(the next request reads the row again). Django's engine already tolerates a failing cache when it
reads or saves; this one also when it puts a row it read back into the cache, so that staff pages
keep working, from the database, while Redis is away.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            data = None
        if data is not None:
            return data
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=row.expire_date))
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)
        return data
