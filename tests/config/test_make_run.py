"""`make run` stops cleanly: Ctrl-C ends web, worker and beat with status 0 and no ERROR lines.

Both tests run the real processes in the no-server mode (SQLite and the embedded broker in a temporary
var dir, whatever DATABASE_URL / REDIS_URL say), each bounded in time and killed for sure at the end.
"""

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.celery_worker import BASE_DIR
from tests.support.processes import bounded, free_port, kill_group

pytestmark = pytest.mark.slow

# Each of the three has said it is up: runserver, the Celery worker, beat.
READY = ["Quit the server with CONTROL-C", " ready.", "beat: Starting"]
# What ends a clean stop: the runner's last line.
STOPPED = "stopped cleanly: web, worker, beat"
_DROPPED = ("DATABASE_URL", "REDIS_URL", "CARDVOTE_", "CELERY_", "SMS_", "TWILIO_", "PORT", "PYTEST_")


def embedded_environment(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env.update(CARDVOTE_VAR_DIR=str(var_dir), PORT=str(free_port()), PYTHONUNBUFFERED="1", DJANGO_DEBUG="true")
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


class Output:
    """Everything a process printed so far, read from a pipe or a terminal without blocking for long."""

    def __init__(self, fd: int):
        self.fd, self.text = fd, ""

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the terminal's other end closed: everyone has gone
                return
            if not chunk:
                return
            self.text += chunk.decode(errors="replace")

    def wait_for(self, needles, *, timeout: float, process: subprocess.Popen) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all(n in self.text for n in needles):
                return True
            if process.poll() is not None:
                self.pump(0.5)
                return all(n in self.text for n in needles)
            self.pump(0.5)
        return False

    def wait_exit(self, process: subprocess.Popen, *, timeout: float) -> int | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and process.poll() is None:
            self.pump(0.5)
        self.pump(0.5)
        return process.poll()


def assert_clean(output: str, status) -> None:
    tail = output[-4000:]
    assert status == 0, f"exit status {status}:\n{tail}"
    assert "ERROR" not in output, tail
    assert "Traceback" not in output, tail
    assert STOPPED in output, tail
    for name in ("web", "worker", "beat"):
        assert re.search(rf"{name} stopped \(rc=0\)", output), f"{name} did not stop with 0:\n{tail}"


def test_ctrl_c_stops_the_procfile_processes_with_status_0_and_no_errors(tmp_path):
    env = embedded_environment(tmp_path / "var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True, timeout=120
    )
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        bounded([sys.executable, "-m", "config.run", "Procfile"], 180),
        cwd=BASE_DIR,
        env=env,
        stdout=write_fd,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job is
    )
    os.close(write_fd)
    output = Output(read_fd)
    try:
        assert output.wait_for(READY, timeout=90, process=process), output.text[-4000:]
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: SIGINT to the foreground process group
        status = output.wait_exit(process, timeout=60)
    finally:
        kill_group(process, signal.SIGTERM, timeout=50)  # the runner stops its processes; SIGKILL if it cannot
        os.close(read_fd)
    assert_clean(output.text, status)


def test_make_run_on_a_terminal_stops_on_ctrl_c_with_status_0(tmp_path):
    """Through make and a real pseudo-terminal, as a person runs it: make itself must not see the Ctrl-C."""
    import termios

    env = embedded_environment(tmp_path / "var")
    env["TERM"] = "dumb"
    controller, terminal = os.openpty()
    # The child makes the terminal its controlling terminal, then becomes `make run` (bounded in time; timeout
    # stays in the terminal's foreground group, as a shell would leave make).
    take_terminal = (
        "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execvp(sys.argv[1], sys.argv[1:])"
    )
    make = ["timeout", "--foreground", "-s", "KILL", "300", "make", "--no-print-directory", "run"]
    process = subprocess.Popen(
        [sys.executable, "-c", take_terminal, *make],
        cwd=BASE_DIR,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    output = Output(controller)
    try:
        assert output.wait_for(READY, timeout=200, process=process), output.text[-4000:]
        assert "==> Loading the demo conference" in output.text  # it says what it is doing
        os.write(controller, termios.tcgetattr(controller)[6][termios.VINTR])  # the Ctrl-C key itself
        status = output.wait_exit(process, timeout=60)
    finally:
        if process.poll() is None:  # the runner holds the terminal: ask it to stop its processes, then insist
            with contextlib.suppress(OSError):
                os.killpg(os.tcgetpgrp(controller), signal.SIGTERM)
            output.wait_exit(process, timeout=50)
        kill_group(process)
        os.close(controller)
    assert "Interrupt" not in output.text, output.text[-2000:]  # make's own complaint when it gets the signal
    assert_clean(output.text, status)
