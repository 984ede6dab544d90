"""The drill harnesses themselves: a redis-server of our own that stops and comes back."""

import shutil

import pytest
import redis

from tests.services import in_ci
from tests.support.redis_server import RedisServer


@pytest.fixture
def own_redis():
    if not shutil.which("redis-server"):
        if in_ci():
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("needs the redis-server binary")
    with RedisServer() as server:
        yield server


def test_own_redis_server_answers_on_its_own_port_and_not_6379(own_redis):
    assert own_redis.port != 6379
    assert own_redis.ping()
    assert own_redis.url(3).endswith(f":{own_redis.port}/3")


def test_a_stopped_redis_refuses_connections_and_a_restart_comes_back_empty(own_redis):
    with redis.Redis.from_url(own_redis.url(), socket_connect_timeout=0.5) as client:
        client.set("left-behind", "1")

        own_redis.stop()
        with pytest.raises(redis.ConnectionError):
            client.ping()

        own_redis.restart()
        assert client.ping()
        assert client.get("left-behind") is None  # no persistence: an outage loses the broker's contents
