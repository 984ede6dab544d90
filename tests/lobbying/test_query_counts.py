"""Seeding is slow, so one test per scale checks every page: the same number of queries at scale 1 and 4."""

import io

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from delegates.models import Conference
from lobbying.models import Motion, StanceChange
from tests.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[1, 4], ids=["scale-1", "scale-4"])
def demo(request, db):
    call_command("seed_demo", "--scale", str(request.param), stdout=io.StringIO())
    Group.objects.get_or_create(name="coordinators")
    conference = Conference.current()
    return {
        "scale": request.param,
        "conference": conference,
        "motion": Motion.objects.get(conference=conference, composite_number=3),
        "stances": StanceChange.objects.count(),
    }


def whip_section(response) -> str:
    html = response.content.decode()
    return html[html.index('id="whip-panels"') : html.index("</section>", html.index('id="whip-panels"'))]


@pytest.fixture
def clock_stopped():
    """The cached whip panels are keyed by the minute: a loaded machine crossing a minute between two requests
    would recompute them and count five more queries. The clock stands still for the counts."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def test_pages_take_the_same_number_of_queries_at_every_scale(client, demo, clock_stopped, django_assert_num_queries):
    assert demo["stances"] > 1500 * demo["scale"]  # the data really grew
    client.force_login(CoordinatorFactory(username="cora"))

    # session, user, coordinator group; stuck outbox; conference; the watermarks of the overview and the whip (1)
    # found nothing in the cache, so: delegates overview: organisations, delegates, consents, card votes, region
    # delegates, region votes (6); delegations over entitlement; volunteer shifts short of their minimum; replies
    # to briefings waiting as proposed stances; whip: tracked motions, attending totals, stances now, stances a
    # day ago, delegates with a new stance (5).
    cache.clear()
    with django_assert_num_queries(20):
        response = client.get(reverse("dashboard"))
    assert "Child poverty and social security" in response.content.decode()

    # The overview and the panels are now cached until their data changes: the same page without the overview's
    # seven queries and the whip's five.
    with django_assert_num_queries(8):
        again = client.get(reverse("dashboard"))
    assert whip_section(again) == whip_section(response)

    # session, user, coordinator group; conference; the whip watermark: the panels come from the cache.
    with django_assert_num_queries(5):
        assert client.get(reverse("lobbying:whip-live")).status_code == 200

    # session, user, coordinator group; conference; the motion chosen; count; one page of delegates with
    # stance, card vote and consent; the motion picker's options (two cursors: the form renders the select twice,
    # once in the filter panel's field and once for its bound value).
    with django_assert_num_queries(9):
        response = client.get(
            reverse("lobbying:stance-delegates"), {"motion": demo["motion"].pk, "stance": "undecided"}
        )
    assert response.status_code == 200

    # session, user, coordinator group; conference; whip watermark; tracked motions; attending totals; stances
    # grouped. Then from the cache until the data changes: the first five only.
    with django_assert_num_queries(8):
        response = client.get(reverse("api-whip-counts"))
    assert len(response.json()["results"]) == 6
    with django_assert_num_queries(5):
        assert client.get(reverse("api-whip-counts")).json() == response.json()

    # session, user, coordinator group; the subject with its conference; whip watermark; attending totals;
    # stances per subject.
    subject = demo["motion"].subject
    with django_assert_num_queries(7):
        response = client.get(reverse("api-whip-counts"), {"subject": subject.pk})
    assert response.json()["results"][0]["subject"] == subject.pk

    # session, user, coordinator group; conference; motions; subjects with tracked motions; attending totals;
    # stances per subject.
    with django_assert_num_queries(8):
        response = client.get(reverse("lobbying:motion-list"))
    assert "Whip count by subject" in response.content.decode()
