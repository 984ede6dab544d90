"""`celery -A config worker`, started as Celery users start one (no -Q), takes every queue the app uses.

And a worker on the embedded (filesystem) broker keeps its files under the var dir, not in the checkout.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import transaction

from config.celery import app
from messaging import services
from messaging.models import OutboundMessage
from messaging.tasks import sweep_outbox
from tests.messaging.fake_twilio import FakeTwilio
from tests.services import in_ci, require_postgres, require_redis
from tests.support.celery_worker import (
    BASE_DIR,
    CeleryWorker,
    celery_broker,
    database_url_from_connection,
    worker_environment,
)
from tests.support.processes import wait_until
from tests.support.redis_server import RedisServer

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("everyone_consents")

Status = OutboundMessage.Status


def test_every_queue_the_app_routes_to_is_declared_for_a_plain_worker():
    routed = {route["queue"] for route in app.conf.task_routes.values()}
    for entry in app.conf.beat_schedule.values():  # beat's own queue option, else where the task is routed
        queue = entry.get("options", {}).get("queue") or app.amqp.router.route({}, entry["task"])["queue"].name
        routed.add(queue)
    routed.add(app.conf.task_default_queue)
    # What `celery -A config worker` without -Q consumes: the declared queues (or only the default one).
    declared = {queue.name for queue in app.conf.task_queues or ()}
    assert routed <= declared, f"a plain worker would not consume {routed - declared}"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_started_with_the_plain_command_delivers_a_text_and_runs_the_sweeper(tmp_path, settings):
    require_postgres()
    require_redis()
    with RedisServer(workdir=tmp_path / "redis") as redis_server, FakeTwilio() as twilio:
        env = worker_environment(
            database_url=database_url_from_connection(),
            redis_url=redis_server.url(),
            var_dir=tmp_path / "var",
            rate=50,
            extra=twilio.env(),
        )
        with celery_broker(redis_server.url()), CeleryWorker("plain", env, log_dir=tmp_path, queues=None) as worker:
            worker.wait_ready()
            with transaction.atomic():
                message = services.send_sms(
                    to="+447700900123", body="Plain worker", key="plain-worker:1", purpose="drill", marketing=False
                )
            # The sweeper goes to the `default` queue (as beat sends it): the same worker must take it too.
            sweep_outbox.apply_async(queue="default")
            delivered = twilio.wait_for_sends(1, timeout=45)
            swept = wait_until(lambda: "sweep_outbox" in worker.log() and "succeeded" in worker.log(), timeout=30)
            log = worker.log()
    assert delivered, f"no text reached Twilio from a plain worker:\n{log[-3000:]}"
    assert swept, f"the sweeper on the default queue did not run:\n{log[-3000:]}"
    assert twilio.sends()[0].to == "+447700900123"
    message.refresh_from_db()
    assert message.status == Status.SENT


def _git_status() -> set[str] | None:
    if not (shutil.which("git") and (BASE_DIR / ".git").exists()):
        return None
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return set(result.stdout.splitlines())


def test_a_worker_on_the_embedded_broker_leaves_nothing_new_in_the_checkout(tmp_path):
    before = _git_status()
    if before is None:
        if in_ci():
            pytest.fail("CI=true but this is not a git checkout with git installed")
        pytest.skip("needs a git checkout and git")
    var_dir = tmp_path / "var"
    env = worker_environment(database_url=f"sqlite:///{var_dir / 'db.sqlite3'}", redis_url="", var_dir=var_dir, rate=1)
    env.pop("REDIS_URL")  # no REDIS_URL: the embedded broker, as `make run` uses it
    with CeleryWorker("embedded", env, log_dir=tmp_path, queues=None) as worker:
        worker.wait_ready()
        log = worker.log()
    assert "filesystem://" in log
    new = _git_status() - before
    assert not new, f"the worker wrote into the checkout: {sorted(new)}"
    assert not (BASE_DIR / "control").exists()
    # Where kombu keeps its exchange tables instead.
    assert sorted(p.name for p in Path(var_dir, "broker", "control").iterdir())
