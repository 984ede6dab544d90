import pytest

from delegates.demo import demo_conference
from messaging.models import OutboundMessage
from messaging.phones import is_fictional
from volunteers import demo
from volunteers.models import Shift, Signup, Volunteer

pytestmark = pytest.mark.django_db


def test_demo_has_a_week_of_shifts_with_gaps_and_waitlists_and_only_drama_numbers():
    conference = demo_conference()
    summary = demo.seed(conference=conference, scale=1, seed=2027)
    assert "shifts" in summary
    assert Volunteer.objects.count() == 100
    assert all(is_fictional(m) for m in Volunteer.objects.values_list("mobile", flat=True))
    shifts = list(Shift.objects.filter(conference=conference).with_counts())
    assert len(shifts) >= 20
    assert any(s.taken >= s.capacity and s.waiting for s in shifts)
    assert any(s.taken < s.minimum for s in shifts)
    assert all(s.taken <= s.capacity for s in shifts)
    assert Signup.objects.filter(changes__isnull=True).count() == 0
    assert not OutboundMessage.objects.exists()  # seeding texts nobody


def test_demo_is_safe_to_run_again():
    conference = demo_conference()
    demo.seed(conference=conference, scale=1, seed=2027)
    counts = (Shift.objects.count(), Volunteer.objects.count(), Signup.objects.count())
    demo.seed(conference=conference, scale=1, seed=2027)
    assert (Shift.objects.count(), Volunteer.objects.count(), Signup.objects.count()) == counts
