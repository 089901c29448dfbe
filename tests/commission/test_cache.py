from django.core.cache import caches
from django_redis.cache import RedisCache

from tabulation.api.results import counter_increment


def test_under_redis_the_cache_keeps_values_and_reuses_one_client(require_redis):
    cache = caches["default"]
    assert isinstance(cache, RedisCache)

    cache.set("test:cache:reuse", {"version": 3, "name": "Čukarica"}, 30)

    assert cache.get("test:cache:reuse") == {"version": 3, "name": "Čukarica"}
    # The reason for django-redis (commission/settings.py): one client per
    # process, not a new one per call.
    assert cache.client.get_client(write=True) is cache.client.get_client(write=True)
    cache.delete("test:cache:reuse")


def test_under_redis_the_throttle_counts_in_redis_itself(require_redis, monkeypatch):
    cache = caches["default"]
    cache.delete("test:cache:counter")

    def read_and_write_back(*args, **kwargs):
        raise AssertionError("counted by a read and a write, not by Redis's INCR")

    # The file cache's way, which two requests at once would both pass.
    monkeypatch.setattr(cache, "set", read_and_write_back)

    counts = [counter_increment(cache, "test:cache:counter", timeout=30) for _ in range(3)]

    assert counts == [1, 2, 3]
    assert cache.client.get_client().get(cache.make_key("test:cache:counter")) == b"3"
    cache.delete("test:cache:counter")
