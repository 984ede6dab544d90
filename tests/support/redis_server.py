"""A redis-server of the drill's own, on a free port, which it may stop and restart at will.

The shared Redis on 6379 is never touched: an outage drill must not take down other people's work.
No persistence (``--save "" --appendonly no``): a restart loses whatever the broker held, which is
exactly the outage the sweeper has to recover from.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from tests.support.processes import bounded, free_port, stop_group, wait_until


class RedisServer:
    def __init__(self, *, port: int | None = None, workdir: Path | None = None, lifetime: float = 600):
        self.port = port or free_port()
        self.lifetime = lifetime
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="cardvote-redis-"))
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, timeout: float = 10.0) -> "RedisServer":
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")]
        self.process = subprocess.Popen(
            bounded(command, self.lifetime), start_new_session=True, stdout=subprocess.DEVNULL
        )
        if not wait_until(self.ping, timeout=timeout):
            self.stop()
            raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout}s")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, grace=5)
            self.process = None

    def restart(self, *, timeout: float = 10.0) -> "RedisServer":
        """Stop (if running) and start again on the same port: an outage that ends."""
        self.stop()
        return self.start(timeout=timeout)

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
