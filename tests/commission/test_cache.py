from django.core.cache import caches

from commission.cache import RedisCache


def test_under_redis_the_cache_keeps_values_and_reuses_one_client(require_redis):
    cache = caches["default"]
    assert isinstance(cache, RedisCache)

    cache.set("test:cache:reuse", {"version": 3, "name": "Čukarica"}, 30)

    assert cache.get("test:cache:reuse") == {"version": 3, "name": "Čukarica"}
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=True)
    cache.delete("test:cache:reuse")
