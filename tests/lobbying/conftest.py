"""A small hand-countable conference for the lobbying tests."""

import datetime as dt

import pytest
from django.utils import timezone

from delegates.models import Region
from lobbying import services
from lobbying.models import Level, Motion, StanceChange
from messaging import services as messaging_services
from tests.factories import DelegateFactory, OrganisationFactory, UnionFactory


@pytest.fixture
def motion(conference):
    return services.create_motion(
        conference=conference,
        title="Scrap the two-child benefit cap",
        text="Conference notes the two-child limit pushes children into poverty.",
        position=Motion.Position.SUPPORT,
    )


@pytest.fixture
def dispatched(monkeypatch):
    """The dispatcher tasks send_batch would publish after commit (lists of outbox ids): no worker here."""
    calls = []
    monkeypatch.setattr(messaging_services, "dispatch", lambda ids: calls.append(list(ids)) or True)
    return calls


@pytest.fixture
def briefing_motion(conference):
    """A composite (number 3) for briefings' {motion} merge field ("Composite 3: Scrap the cap")."""
    motion = services.create_motion(conference=conference, title="Scrap the cap", text="Conference notes.")
    Motion.objects.filter(pk=motion.pk).update(kind=Motion.Kind.COMPOSITE, composite_number=3)
    motion.refresh_from_db()
    return motion


@pytest.fixture
def room(conference, motion):
    """Two CLPs and a union, delegates with stances at known moments.

    CLP card votes: North West 1,000 members split between a1 and a2 (500 each); London 3,000 all on b1 (b2
    does not attend). The union's 100,000 split between u1 and u2 (50,000 each).
    """
    now = timezone.now()
    north_west = OrganisationFactory(name="Wirral West", region=Region.NORTH_WEST, membership=1000)
    london = OrganisationFactory(name="Hackney South", region=Region.LONDON, membership=3000)
    union = UnionFactory(name="GMB", membership=100_000)
    people = {
        "a1": DelegateFactory(conference=conference, organisation=north_west, first_name="Ada", last_name="One"),
        "a2": DelegateFactory(conference=conference, organisation=north_west, first_name="Alf", last_name="Two"),
        "b1": DelegateFactory(conference=conference, organisation=london, first_name="Bea", last_name="Three"),
        "b2": DelegateFactory(
            conference=conference, organisation=london, first_name="Bo", last_name="Four", is_attending=False
        ),
        "u1": DelegateFactory(conference=conference, organisation=union, first_name="Uma", last_name="Five"),
        "u2": DelegateFactory(conference=conference, organisation=union, first_name="Uri", last_name="Six"),
    }

    def say(who, level, ago):
        services.record_stance(
            delegate=people[who],
            motion=motion,
            level=level,
            source=StanceChange.Source.COORDINATOR,
            at=now - ago,
        )

    say("a1", Level.FOR, dt.timedelta(days=3))
    say("b1", Level.LEANING_FOR, dt.timedelta(days=3))
    say("a2", Level.UNDECIDED, dt.timedelta(days=2))
    say("a2", Level.AGAINST, dt.timedelta(hours=1))
    say("u1", Level.AGAINST, dt.timedelta(hours=2))
    say("b2", Level.FOR, dt.timedelta(days=1, hours=1))  # does not attend: no card vote, not counted
    return {"now": now, "north_west": north_west, "london": london, "union": union, **people}
