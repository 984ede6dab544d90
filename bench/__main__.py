"""`python -m bench` (`make bench`): every bench, then ONE table of their figures; `python -m bench NAME [options]`
runs one bench and prints its own detail.

bench/pages.py (alias whip): pages and the whip count at seed_demo scale 1 and 4 against the bare SQL.
bench/imports.py: the delegate import at conference scale. bench/sms_outbox.py: the SMS outbox through real
workers. bench/signups.py: volunteer sign-ups through gunicorn (p50/p95, overbookings) and /shifts/ size.
bench/briefings.py: a briefing to every delegate frozen and queued at scale 1 and 4, then delivered at 10 and 50/s.
bench/http_load.py (http): locust against /shifts/ and the dashboard through gunicorn with two workers.

Each bench runs in its own interpreter (each configures Django for its own database) and records its figures
(bench/table.py); the table, with the date and the machine, is printed and written into bench/README.md.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from bench import http_load, imports, signups, sms_outbox
from bench.table import RESULTS_ENV, load, render, write_readme


def _in_own_interpreter(module):
    def run(argv) -> int:
        return subprocess.run([sys.executable, "-m", module, *argv], check=False).returncode

    return run


BENCHES = {
    "pages": _in_own_interpreter("bench.pages"),
    "briefings": _in_own_interpreter("bench.briefings"),  # empties and reseeds a database of its own
    "imports": imports.main,
    "sms": sms_outbox.main,
    "signups": signups.main,
    "http": http_load.main,
}
ALIASES = {"whip": "pages"}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def services() -> tuple[str, bool]:
    """What the benches run against, said plainly, and whether PostgreSQL is there at all."""
    database = os.environ.get("DATABASE_URL", "")
    postgres = _reachable(database if database.startswith("postgres") else "postgres://127.0.0.1:5432", 5432)
    redis_url = os.environ.get("REDIS_URL", "")
    said = ["PostgreSQL at 127.0.0.1:5432" if postgres else "no PostgreSQL (the benches need it: none ran)"]
    if redis_url and _reachable(redis_url, 6379):
        said.append(
            "Redis from REDIS_URL for the pages bench; the SMS and sign-up benches start their own redis-server"
        )
    else:
        said.append("no REDIS_URL: the pages bench uses the file cache and the embedded broker; the SMS and sign-up "
                    "benches start their own redis-server")  # fmt: skip
    return "; ".join(said), postgres


def run_all() -> int:
    said, postgres = services()
    print(f"bench: {said}", flush=True)
    if not postgres:
        return 2
    status = 0
    with tempfile.TemporaryDirectory(prefix="cardvote-bench-") as tmp:
        results = os.path.join(tmp, "figures.jsonl")
        os.environ[RESULTS_ENV] = results
        started = time.monotonic()
        for name in BENCHES:
            print(f"\n==> bench {name}", flush=True)
            # Each in its own interpreter, so each configures Django afresh.
            code = subprocess.run([sys.executable, "-m", "bench", name], check=False).returncode
            status = status or code
        figures = load(results)
    table = render(figures, services=said)
    print(f"\n==> All benches ({time.monotonic() - started:.0f} s)\n")
    print(table)
    write_readme(table)
    print("\n(written to bench/README.md)")
    return status


def main(args) -> int:
    if not args:
        return run_all()
    name = ALIASES.get(args[0], args[0])
    if name in BENCHES:
        return BENCHES[name](args[1:])
    # Options without a bench name are the SMS bench's, as before.
    return sms_outbox.main(args)


sys.exit(main(sys.argv[1:]))
