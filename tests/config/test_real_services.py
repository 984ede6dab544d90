"""The foundation against real services: a Celery worker consuming from Redis, PostgreSQL row locks.

Skip locally without DATABASE_URL / REDIS_URL (with the reason); under CI=true they must run.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction

from tests.factories import DelegateFactory
from tests.services import require_postgres, require_redis
from tests.support.celery_worker import celery_broker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_on_redis(tmp_path):
    redis_url = require_redis()
    env = {**os.environ, "REDIS_URL": redis_url, "CARDVOTE_VAR_DIR": str(tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "--pool", "solo", "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so cleanup takes any children too
    )
    try:
        # Fresh publishing pools for this process: other drills point the app at their own redis-server and back.
        with celery_broker(redis_url):
            yield worker
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def test_a_real_worker_consumes_a_task_from_redis(celery_worker_on_redis):
    from config.tasks import ping

    token = uuid.uuid4().hex
    ping.delay(token)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and cache.get(f"cardvote:ping:{token}") is None:
        assert celery_worker_on_redis.poll() is None, "the worker exited"
        time.sleep(0.2)
    assert cache.get(f"cardvote:ping:{token}") == "pong"


@pytest.mark.django_db(transaction=True)
def test_postgres_row_lock_makes_a_second_writer_wait_its_turn():
    require_postgres()
    delegate = DelegateFactory()
    locked = threading.Event()
    release = threading.Event()

    def hold_the_lock():
        with transaction.atomic():
            type(delegate).objects.select_for_update().get(pk=delegate.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(DatabaseError), transaction.atomic():
            type(delegate).objects.select_for_update(nowait=True).get(pk=delegate.pk)
    finally:
        release.set()
        holder.join(10)
    with transaction.atomic():
        assert type(delegate).objects.select_for_update(nowait=True).get(pk=delegate.pk) == delegate
