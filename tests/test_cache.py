from __future__ import annotations

import pytest

from clinic.cache import RedisCache


def test_the_redis_cache_builds_one_client_per_pool_not_one_per_call():
    cache = RedisCache("redis://127.0.0.1:6379/11", {})
    first = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is first
    assert first.connection_pool is cache._cache._pools[0]


def test_reads_may_go_to_the_replicas_each_through_its_own_client():
    cache = RedisCache("redis://primary:6379/0;redis://replica:6379/0", {})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client()
    assert reader is not writer
    assert reader.connection_pool.connection_kwargs["host"] == "replica"
    assert writer.connection_pool.connection_kwargs["host"] == "primary"
    assert cache._cache.get_client() is reader


@pytest.mark.integration
def test_the_shared_client_reads_and_writes_redis():
    cache = RedisCache("redis://127.0.0.1:6379/11", {})
    cache.set("clinic-cache-test", {"n": 1}, timeout=5)
    assert cache.get("clinic-cache-test") == {"n": 1}
    assert cache.get_many(["clinic-cache-test", "absent"]) == {"clinic-cache-test": {"n": 1}}
    cache.delete("clinic-cache-test")
