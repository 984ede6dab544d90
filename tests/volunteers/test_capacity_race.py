"""Capacity holds when 20 people tap "Sign up" for a 5-place shift at the same instant.

Real PostgreSQL, real commits, one connection per thread (as gunicorn workers would have). The count of places
is slowed a little so that, without the lock, every thread reads "0 taken" before any of them writes: the
control test proves the race is real; the same setup with the shift row locked confirms exactly 5.
"""

import threading
import time

import pytest
from django.db import connection

from tests.services import require_postgres
from tests.volunteers.support import NOW, ShiftFactory, VolunteerFactory
from volunteers import services
from volunteers.models import Shift, Signup, SignupChange

# Threads and real commits: kept off the other xdist worker's back, like the drills.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]
PEOPLE, CAPACITY = 20, 5


def slow_count(original):
    def counted(shift):
        taken = original(shift)
        time.sleep(0.05)  # the window between reading the count and writing the sign-up
        return taken

    return counted


def counts(shift):
    rows = Signup.objects.filter(shift=shift).values_list("status", flat=True)
    return {status: list(rows).count(status) for status in set(rows)}


@pytest.fixture
def crowd(sms, monkeypatch, time_machine):
    require_postgres()
    time_machine.move_to(NOW, tick=False)
    monkeypatch.setattr(services, "_places_taken", slow_count(services._places_taken))
    shift = ShiftFactory(capacity=CAPACITY, minimum=1)
    volunteers = [VolunteerFactory() for _ in range(PEOPLE)]
    return shift, volunteers


def run(shift, volunteers):
    start = threading.Barrier(len(volunteers))
    errors = []

    def tap(volunteer):
        try:
            start.wait(timeout=20)
            services.sign_up(shift=shift, volunteer=volunteer, source=SignupChange.Source.PUBLIC)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(v,)) for v in volunteers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    return counts(shift)


def test_control_without_the_lock_twenty_simultaneous_signups_overbook(crowd, monkeypatch):
    shift, volunteers = crowd
    monkeypatch.setattr(
        services, "_locked_shift", lambda pk: Shift.objects.select_related("conference", "location").get(pk=pk)
    )
    # Everyone has counted before anyone writes (only possible without the lock: with it, this would deadlock).
    all_counted = threading.Barrier(PEOPLE)
    count = services._places_taken

    def counted_together(shift):
        taken = count(shift)
        all_counted.wait(timeout=20)
        return taken

    monkeypatch.setattr(services, "_places_taken", counted_together)
    result = run(shift, volunteers)
    assert result == {"confirmed": PEOPLE}  # 20 confirmed for 5 places: the race exists


def test_twenty_simultaneous_signups_at_a_shift_of_five_confirm_exactly_five(crowd, sms):
    shift, volunteers = crowd
    result = run(shift, volunteers)
    assert result == {"confirmed": 5, "waitlisted": 15}
    assert SignupChange.objects.count() == PEOPLE
    assert len(sms.queued) == PEOPLE  # every one got exactly one text (confirmation or waitlist)
