"""clinic.cache: Django's Redis backend, with one redis-py client per connection pool."""

from __future__ import annotations

from clinic.cache import RedisCache


def test_the_redis_cache_reuses_one_client_per_connection_pool():
    backend = RedisCache("redis://127.0.0.1:6379/0", {})  # no connection is made here

    client = backend._cache.get_client()

    assert backend._cache.get_client() is client
    assert backend._cache.get_client("a-key", write=True) is client  # one server, one pool


def test_each_server_of_the_redis_cache_has_its_own_client():
    backend = RedisCache("redis://127.0.0.1:6379/0,redis://127.0.0.1:6379/1", {})

    writer = backend._cache.get_client(write=True)
    reader = backend._cache.get_client()

    assert writer is not reader
    assert backend._cache.get_client(write=True) is writer
    assert backend._cache.get_client() is reader
