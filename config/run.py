"""`make run`'s process runner: the Procfile's web, worker and beat under honcho, and Ctrl-C a clean stop.

`honcho start` alone stops its processes with SIGTERM to each whole process group, which kills Celery's
pool children under the worker's feet (two ERROR lines), gives up on a warm shutdown after 5 s, and exits
130. Here, on Ctrl-C (or SIGTERM), each process is stopped the way it expects:

- a Celery worker gets SIGTERM on its main process only: a warm shutdown that finishes the tasks in hand,
  stops its own pool and exits 0 (its SIGINT handler exits 1 by design);
- everything else gets SIGINT on its process group, as Ctrl-C in its own terminal would (runserver's
  autoreloader and the server it runs both stop, with status 0).

Whatever is still running after STOP_GRACE_SECONDS is SIGKILLed. A stop that was asked for and went
cleanly exits 0; a process that dies by itself stops the others, and its status is ours.

    python -m config.run [Procfile]
"""

import errno
import os
import signal
import sys
from pathlib import Path

from honcho import manager as honcho_manager
from honcho.environ import parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

# Long enough for a worker's warm shutdown: a text waiting for its rate-limit slot (<= 20 s) and then Twilio.
STOP_GRACE_SECONDS = 40
ASKED_TO_STOP = {128 + signal.SIGINT, 128 + signal.SIGTERM}  # what honcho records when it got the signal
# A process that ended by itself with 0, or because of the SIGINT we passed on, stopped cleanly.
CLEAN_EXITS = {0, -signal.SIGINT, 128 + signal.SIGINT}


def _signal(pid: int, sig: int, *, group: bool) -> None:
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ESRCH):
            raise


def is_celery_worker(command: str) -> bool:
    words = command.split()
    return "celery" in " ".join(words[:2]) and "worker" in words


class CleanStopManager(Manager):
    """Honcho's manager with a stop that suits each process (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.commands: dict[str, str] = {}

    def add_process(self, name, cmd, **kwargs):
        self.commands[name] = cmd
        # `exec` so the process group's leader is the program itself, not a shell waiting for it.
        return super().add_process(name, f"exec {cmd}", **kwargs)

    def _killall(self, force=False):
        for name, entry in self._processes.items():
            if "returncode" in entry or entry.get("pid") is None:
                continue
            pid = entry["pid"]
            if force:
                self._system_print(f"{name} did not stop in {STOP_GRACE_SECONDS} s: sending SIGKILL (pid {pid})\n")
                _signal(pid, signal.SIGKILL, group=True)
            elif is_celery_worker(self.commands[name]):
                self._system_print(f"stopping {name}: SIGTERM to its main process (warm shutdown, pid {pid})\n")
                _signal(pid, signal.SIGTERM, group=False)
            else:
                self._system_print(f"stopping {name}: SIGINT to its process group (pid {pid})\n")
                _signal(pid, signal.SIGINT, group=True)


def exit_status(asked_to_stop: bool, returncodes: list[int | None], first_returncode: int | None) -> int:
    """0 when we were asked to stop and every process stopped cleanly; else what honcho would say."""
    if asked_to_stop and all(code in CLEAN_EXITS for code in returncodes):
        return 0
    return first_returncode or 1


def main(argv: list[str]) -> int:
    procfile = Path(argv[1] if len(argv) > 1 else "Procfile")
    processes = parse_procfile(procfile.read_text()).processes
    honcho_manager.KILL_WAIT = STOP_GRACE_SECONDS  # honcho reads it at each check of its loop
    manager = CleanStopManager(Printer(sys.stdout, colour=sys.stdout.isatty()))
    for name, command in processes.items():
        manager.add_process(name, command)
    manager.loop()
    codes = [entry.get("returncode") for entry in manager._processes.values()]
    status = exit_status(manager.returncode in ASKED_TO_STOP, codes, manager.returncode)
    print(f"{'stopped cleanly' if status == 0 else f'stopped with status {status}'}: {', '.join(processes)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
