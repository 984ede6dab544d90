"""The test run's settings: config.settings, with each pytest-xdist worker given its own Redis database and
var dir first (tests/support/xdist.py). Without xdist this is exactly config.settings."""

from tests.support.xdist import isolate

isolate()

from config.settings import *  # noqa: E402, F403
