"""`python -m bench`: every bench; `python -m bench imports|sms|signups|pages [options]` runs one.

bench/imports.py: the delegate import at conference scale. bench/sms_outbox.py: the SMS outbox.
bench/signups.py: volunteer sign-ups through gunicorn (p50/p95, overbookings) and /shifts/ transfer size.
bench/whip.py: the dashboard's whip count at seed_demo scale 1 and 4 against the bare SQL aggregate.
"""

import subprocess
import sys

from bench import imports, signups, sms_outbox


def pages(argv) -> int:
    # Its own interpreter: it configures Django for its own database, whatever the benches before it set up.
    return subprocess.run([sys.executable, "-m", "bench.pages", *argv], check=False).returncode


BENCHES = {"imports": imports.main, "sms": sms_outbox.main, "signups": signups.main, "pages": pages, "whip": pages}

args = sys.argv[1:]
if args and args[0] in BENCHES:
    sys.exit(BENCHES[args[0]](args[1:]))
if args:
    # Options without a bench name are the SMS bench's, as before.
    sys.exit(sms_outbox.main(args))
status = 0
for run in BENCHES.values():
    status = run([]) or status
    print()
sys.exit(status)
