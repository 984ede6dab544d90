from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from delegates.demo import seed_demo
from delegates.models import Conference, Delegate, Organisation, SmsConsent

pytestmark = pytest.mark.django_db


def test_demo_is_a_realistic_labour_conference():
    result = seed_demo()
    kinds = Counter(Organisation.objects.values_list("kind", flat=True))
    assert kinds == {"clp": 633, "trade_union": 11, "socialist_society": 20}
    assert result.conference.venue == "ACC Liverpool"
    assert 900 <= Delegate.objects.count() <= 2500
    regions = set(Organisation.objects.filter(kind="clp").values_list("region", flat=True))
    assert len(regions) == 12
    # Every CLP delegation is within its entitlement plus the two extra places.
    for organisation in Organisation.objects.filter(kind="clp").prefetch_related("delegates")[:200]:
        sent = len(organisation.delegates.all())
        assert sent <= result.conference.delegate_entitlement(organisation) + 2


def test_demo_numbers_all_come_from_the_drama_range():
    seed_demo()
    mobiles = Delegate.objects.exclude(mobile="").values_list("mobile", flat=True)
    assert mobiles and all(m.startswith("+447700900") for m in mobiles)
    assert SmsConsent.objects.exists()


def test_running_the_seed_again_changes_nothing():
    seed_demo()
    before = (Organisation.objects.count(), Delegate.objects.count(), SmsConsent.objects.count())
    again = seed_demo()
    assert (again.organisations_created, again.delegates_created) == (0, 0)
    assert (Organisation.objects.count(), Delegate.objects.count(), SmsConsent.objects.count()) == before


def test_the_seed_is_deterministic():
    seed_demo()
    first = list(Delegate.objects.order_by("organisation__name", "pk").values_list("first_name", "last_name", "mobile"))
    Delegate.objects.all().delete()
    Organisation.objects.all().delete()
    Conference.objects.all().delete()
    seed_demo()
    second = list(
        Delegate.objects.order_by("organisation__name", "pk").values_list("first_name", "last_name", "mobile")
    )
    assert first == second


def test_scale_multiplies_the_organisations_and_delegates():
    one = seed_demo(scale=1)
    delegates_at_one = Delegate.objects.count()
    seed_demo(scale=3)
    assert Organisation.objects.count() == 3 * 664
    assert 2.5 * delegates_at_one <= Delegate.objects.count() <= 3.5 * delegates_at_one
    assert one.conference == Conference.objects.get()


def test_command_if_empty_leaves_an_existing_database_alone(capsys):
    call_command("seed_demo")
    call_command("seed_demo", "--if-empty", "--scale", "2")
    assert Organisation.objects.count() == 664
    assert "leaving it as it is" in capsys.readouterr().out


def test_command_refuses_a_silly_scale():
    with pytest.raises(CommandError):
        call_command("seed_demo", "--scale", "0")
