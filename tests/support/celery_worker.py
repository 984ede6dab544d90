"""Real ``celery -A config worker`` processes for drills: started in their own process group,
pointed at the drill's database, broker and fake Twilio through the environment, and killed for sure.
"""

import os
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import kombu.pools

from tests.support.processes import bounded, kill_group, stop_group, wait_until

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables that would change what a worker does if they leaked in from the developer's shell.
_DROPPED_PREFIXES = ("SMS_", "TWILIO_", "CELERY_", "DATABASE_URL", "REDIS_URL", "CARDVOTE_")


def database_url_from_connection() -> str:
    """The URL of the database this process is using right now (in a test: test_<name>).

    Workers are other processes, so a drill must use ``django_db(transaction=True)`` and hand them
    this URL: rows written in a test's open transaction would be invisible to them.
    """
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("drills with separate worker processes need PostgreSQL")
    user = urllib.parse.quote(s.get("USER") or "", safe="")
    password = urllib.parse.quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{urllib.parse.quote(s['NAME'], safe='')}"


def worker_environment(
    *, database_url: str, redis_url: str, var_dir: Path, rate: float, extra: dict | None = None
) -> dict[str, str]:
    """The environment of a drill worker; ``extra`` carries e.g. the fake Twilio's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CARDVOTE_VAR_DIR=str(var_dir),
        SMS_RATE_PER_SECOND=str(rate),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="info",
    )
    env.update(extra or {})
    return env


class CeleryWorker:
    """One worker on the sms and default queues (``--concurrency 1`` unless told), logging to a file.

    ``queues=None`` starts it as the README and Procfile do, with no ``-Q``: it must find every queue itself.
    """

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        *,
        log_dir: Path,
        queues: str | None = "sms,default",
        concurrency: int = 1,
        lifetime: float = 600,
        cwd: Path = BASE_DIR,
    ):
        self.name = name
        self.cwd = cwd
        self.lifetime = lifetime  # SIGKILLed after this long even if nobody cleans up
        self.env = env
        self.queues = queues
        self.concurrency = concurrency
        self.log_path = Path(log_dir) / f"worker-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryWorker":
        command = [sys.executable, "-m", "celery", "-A", "config", "worker"]
        command += ["-Q", self.queues] if self.queues else []
        command += ["--concurrency", str(self.concurrency), "-n", f"{self.name}@%h", "--loglevel", "info"]
        # Gossip, mingle and heartbeats only slow start-up and add broker chatter a drill doesn't need.
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                bounded(command, self.lifetime),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, *, timeout: float = 45.0) -> "CeleryWorker":
        """Wait for Celery's "ready." line; raise with the log's tail if it dies or takes too long."""
        ready = wait_until(lambda: " ready." in self.log() or not self.alive, timeout=timeout, interval=0.2)
        if not (ready and self.alive):
            tail = self.log()[-3000:]
            self.kill()
            raise RuntimeError(f"worker {self.name} did not become ready in {timeout}s:\n{tail}")
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no warm shutdown, no acks, no goodbyes."""
        if self.process is not None:
            kill_group(self.process)

    def stop(self, *, grace: float = 10.0) -> None:
        if self.process is not None:
            stop_group(self.process, grace=grace)

    def __enter__(self) -> "CeleryWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()


@contextmanager
def running_workers(
    names, env: dict[str, str], *, log_dir: Path, timeout: float = 45.0, concurrency: int = 1, lifetime: float = 600
):
    """Start several workers together (start-up overlaps) and SIGKILL every one of them at the end."""
    workers = [CeleryWorker(name, env, log_dir=log_dir, concurrency=concurrency, lifetime=lifetime) for name in names]
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.wait_ready(timeout=max(deadline - time.monotonic(), 1.0))
        yield workers
    finally:
        for worker in workers:
            worker.kill()


@contextmanager
def celery_broker(url: str):
    """Make this process's Celery app publish to ``url`` (e.g. the drill's own redis-server).

    ``send_sms`` queues with ``deliver_outbound.delay`` from the test process; the app caches its
    connection pools, so both are dropped on the way in and on the way out.
    """
    from config.celery import app

    def reset_pools():
        # app.pool is kombu's process-wide pool for the broker URL: closing it without also forgetting it
        # left a closed pool behind for the next test using that URL ("Acquire on closed pool").
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.broker_url
    reset_pools()
    app.conf.broker_url = url
    try:
        yield app
    finally:
        reset_pools()
        app.conf.broker_url = old
