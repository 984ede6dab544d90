"""Parallel test workers never share a Redis database or a var dir."""

from django.conf import settings

from tests.support.xdist import isolate, redis_url_for_worker


def test_each_xdist_worker_gets_its_own_redis_database():
    assert redis_url_for_worker("redis://127.0.0.1:6379/0", 0) == "redis://127.0.0.1:6379/0"
    assert redis_url_for_worker("redis://127.0.0.1:6379/0", 1) == "redis://127.0.0.1:6379/8"
    assert redis_url_for_worker("redis://127.0.0.1:6379/1", 1) == "redis://127.0.0.1:6379/9"
    assert redis_url_for_worker("redis://127.0.0.1:6379/3", 2) == "redis://127.0.0.1:6379/12"
    assert redis_url_for_worker("redis://127.0.0.1:6379", 1) == "redis://127.0.0.1:6379/8"
    assert redis_url_for_worker("unix:///run/redis.sock", 1) == "unix:///run/redis.sock"


def test_isolation_moves_redis_and_the_var_dir_once_even_when_a_subprocess_inherits_it(tmp_path):
    env = {"PYTEST_XDIST_WORKER": "gw1", "REDIS_URL": "redis://127.0.0.1:6379/0", "CARDVOTE_VAR_DIR": str(tmp_path)}
    isolate(env)
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/8"
    assert env["CARDVOTE_VAR_DIR"] == str(tmp_path / "xdist-gw1")
    isolate(env)  # a subprocess started with this environment imports the settings again
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/8"
    assert env["CARDVOTE_VAR_DIR"] == str(tmp_path / "xdist-gw1")


def test_without_xdist_nothing_changes():
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0"}
    isolate(env)
    assert env == {"REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_this_run_uses_the_settings_of_its_own_worker():
    import os

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        assert str(settings.VAR_DIR).endswith(f"xdist-{worker}")
        if settings.REDIS_URL:
            assert os.environ["REDIS_URL"] == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] in (settings.REDIS_URL, str(settings.VAR_DIR / "cache"))
