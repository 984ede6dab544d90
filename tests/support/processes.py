"""Small helpers shared by the harnesses: free ports, bounded waits, killing a process group."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable


def bounded(command: list[str], lifetime: float) -> list[str]:
    """Prefix ``command`` with coreutils' timeout, so that even if the test run itself is SIGKILLed
    (and no clean-up runs) the process and its group are SIGKILLed after ``lifetime`` seconds."""
    timeout = shutil.which("timeout")
    return [timeout, "-s", "KILL", str(max(int(lifetime), 1)), *command] if timeout else command


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    """Poll ``check`` until it is true or ``timeout`` seconds passed; never loops forever."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL, *, timeout: float = 10.0) -> None:
    """Send ``sig`` to the process group started with start_new_session=True, then reap it.

    A worker's pool children live in the same group, so SIGKILL here kills them too, as a crash
    or an OOM kill of the whole container would.
    """
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if sig != signal.SIGKILL:
            kill_group(process, signal.SIGKILL, timeout=timeout)


def stop_group(process: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM the group, give it ``grace`` seconds, then SIGKILL whatever is left of the group."""
    kill_group(process, signal.SIGTERM, timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # orphaned children of a leader that did exit
