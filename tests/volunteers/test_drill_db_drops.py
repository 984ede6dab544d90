"""Drill: PostgreSQL connections are dropped (pg_terminate_backend, as a failover or a restarted pooler would) while
two dozen volunteers on flaky Wi-Fi sign up to three five-place shifts at once.

Each volunteer's phone retries the same form (same form token) after an error, as the public page's retry does, and
each attempt starts the way a request does (``close_old_connections``). After the drops: no shift is overbooked,
each volunteer has exactly one sign-up and one text, and the real WSGI handler answers the public shift list again
on the same thread, on a new connection, without a restart.
"""

import threading
import time
import uuid
from collections import Counter

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import DatabaseError, close_old_connections, connection
from django.test import RequestFactory
from django.urls import reverse

from messaging.models import OutboundMessage
from tests.services import require_postgres
from tests.volunteers.support import NOW, ShiftFactory, VolunteerFactory
from volunteers import services
from volunteers.models import Signup, SignupChange

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("processes"),
]
SHIFTS, CAPACITY, PER_SHIFT = 3, 5, 8
DROPS = 6


def terminate_other_backends() -> int:
    """Kill every other connection to the test database from a connection of our own."""
    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port")
    with psycopg.connect(**{k: params[k] for k in keys if params.get(k)}, autocommit=True) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def get_through_wsgi(path: str) -> int:
    """One GET through Django's real WSGI handler (request_started → close_old_connections, unlike the test
    Client), on this thread's persistent connection."""
    environ = RequestFactory().get(path).environ
    status = []
    response = WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s))
    b"".join(response)
    response.close()  # request_finished: the connection is kept (CONN_MAX_AGE) for the next request
    return int(status[0].split()[0])


@pytest.fixture
def slow_count(monkeypatch):
    """Widen the window between counting places and writing the sign-up, so drops land mid-transaction."""
    count = services._places_taken

    def counted(shift):
        taken = count(shift)
        time.sleep(0.05)
        return taken

    monkeypatch.setattr(services, "_places_taken", counted)


def test_dropped_connections_during_signups_overbook_nothing_lose_nothing_and_the_site_answers_again(
    sms, slow_count, time_machine, settings
):
    require_postgres()
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"], "nothing would notice a dropped connection"
    time_machine.move_to(NOW, tick=True)
    shifts = [ShiftFactory(capacity=CAPACITY, minimum=1) for _ in range(SHIFTS)]
    crowd = [(shift, VolunteerFactory()) for shift in shifts for _ in range(PER_SHIFT)]
    start = threading.Barrier(len(crowd) + 1, timeout=30)
    failures, attempts, gave_up = Counter(), Counter(), []

    def tap(shift, volunteer):
        token = uuid.uuid4()  # one form, however many times the phone submits it
        try:
            start.wait()
            for _ in range(20):
                close_old_connections()  # what every request does first
                attempts[volunteer.pk] += 1
                try:
                    services.sign_up(
                        shift=shift, volunteer=volunteer, source=SignupChange.Source.PUBLIC, form_token=token
                    )
                    return
                except DatabaseError as exc:
                    failures[type(exc).__name__] += 1
                    time.sleep(0.1)
            gave_up.append(volunteer.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=pair) for pair in crowd]
    for thread in threads:
        thread.start()
    start.wait()
    dropped = []
    for _ in range(DROPS):
        time.sleep(0.15)
        dropped.append(terminate_other_backends())
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    connection.close()  # ours was dropped too

    assert not gave_up, f"{len(gave_up)} volunteers never got through; failures {failures}"
    assert sum(failures.values()) > 0, f"no sign-up met a dropped connection (dropped {dropped}): proved nothing"
    for shift in shifts:
        statuses = Counter(Signup.objects.filter(shift=shift).values_list("status", flat=True))
        assert statuses == {"confirmed": CAPACITY, "waitlisted": PER_SHIFT - CAPACITY}, (shift.pk, statuses)
    per_volunteer = Counter(Signup.objects.values_list("volunteer_id", flat=True))
    assert set(per_volunteer.values()) == {1} and len(per_volunteer) == len(crowd)
    assert SignupChange.objects.count() == len(crowd)  # one history row each: no half-written sign-up
    texts = Counter(OutboundMessage.objects.values_list("to", flat=True))
    assert len(texts) == len(crowd) and set(texts.values()) == {1}, texts  # one text each, none twice
    assert len(sms.queued) == len(crowd)

    # The web side: the same thread's kept connection is killed between two requests; the next one gets a new one.
    assert get_through_wsgi(reverse("volunteers:shift-list")) == 200
    kept = connection.connection.info.backend_pid
    assert terminate_other_backends() >= 1
    assert get_through_wsgi(reverse("volunteers:shift-list")) == 200
    assert connection.connection.info.backend_pid != kept, "the request did not run on a replaced connection"
    print(f"sign-up drops drill: dropped {dropped}, failures {dict(failures)}, attempts {sum(attempts.values())}")
