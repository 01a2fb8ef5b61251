"""The Redis cache backend the portal runs with in production (REDIS_URL): Django's, one client per pool."""

from __future__ import annotations

import uuid

from governance.cache import RedisCache

REDIS = "redis://127.0.0.1:6379/15"  # CI and every session run Redis here; the test fails if it is not


def test_the_shared_cache_works_and_reuses_its_client():
    cache = RedisCache(REDIS, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    try:
        assert cache.add("token", "pending", 60) is True
        assert cache.add("token", "other", 60) is False  # the double-submit guard relies on this
        cache.set_many({"a": [1, 2], "b": {"x": "楼"}}, 60)
        assert cache.get_many(["a", "b", "c"]) == {"a": [1, 2], "b": {"x": "楼"}}
        assert cache._cache.get_client(write=True) is cache._cache.get_client(write=True)
    finally:
        cache.clear()  # database 15 is the tests' own
