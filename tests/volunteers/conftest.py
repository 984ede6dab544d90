import uuid

import pytest
import time_machine

from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)
from tests.volunteers.support import NOW


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Each test counts sign-ups afresh: the counters live in the shared cache (Redis under CI)."""
    settings.RATELIMIT_CACHE_PREFIX = f"test-rl:{uuid.uuid4().hex}:"


@pytest.fixture
def frozen():
    """The Saturday before the conference, noon in London; time moves on only when a test says."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
