"""`python -m bench`: the SMS outbox bench (see bench/sms_outbox.py)."""

import sys

from bench.sms_outbox import main

sys.exit(main())
