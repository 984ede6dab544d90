"""Re-link: an erased person's opt-out (kept only as a keyed hash) gets its number back once a record holds the
number again, so every query matches opt-outs by number and the hash key never goes to the database."""

import pytest
from django.test import override_settings

from messaging import services
from messaging.models import OptOut, OptOutEvent
from messaging.privacy import erase_numbers, number_hash

pytestmark = pytest.mark.django_db
NUMBER = "+447700900123"
OTHER = "+447700900124"


def erased_opt_out(number: str = NUMBER) -> OptOut:
    """A STOP, then the person's erasure: the row keeps only the keyed hash."""
    services.opt_out(number, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    erase_numbers(numbers=[number])
    row = OptOut.objects.get(number_hash=number_hash(number))
    assert (row.number, row.opted_out) == ("", True)
    return row


def test_a_number_held_again_goes_back_on_its_hash_only_opt_out_with_a_history_row():
    row = erased_opt_out()

    assert services.relink_opt_outs(numbers=[NUMBER, OTHER, ""], via="delegate form") == 1

    row.refresh_from_db()
    assert (row.number, row.number_hash, row.opted_out) == (NUMBER, number_hash(NUMBER), True)
    event = OptOutEvent.objects.filter(opt_out=row).first()  # newest first
    assert (event.number, event.action, event.source, event.keyword) == (
        NUMBER,
        OptOutEvent.Action.RELINK,
        OptOutEvent.Source.RECORD,
        "delegate form",
    )
    # The events before the erasure stay blanked: only the re-link names the number again.
    assert set(OptOutEvent.objects.exclude(pk=event.pk).values_list("number", flat=True)) == {""}
    assert not OptOut.objects.filter(number=OTHER).exists()  # a number nobody opted out stays off the list


def test_relinking_twice_changes_nothing_the_second_time():
    erased_opt_out()
    assert services.relink_opt_outs(numbers=[NUMBER]) == 1
    assert services.relink_opt_outs(numbers=[NUMBER]) == 0
    assert OptOutEvent.objects.filter(action=OptOutEvent.Action.RELINK).count() == 1


def test_an_opt_in_after_erasure_is_relinked_too_and_stays_an_opt_in():
    erased_opt_out()
    services.opt_in(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="START")  # finds the hashed row

    assert services.relink_opt_outs(numbers=[NUMBER]) == 1
    assert OptOut.objects.get().number == NUMBER and not services.is_opted_out(NUMBER)


def test_a_number_already_listed_under_a_newer_key_is_not_put_on_a_second_row():
    """Only after a key rotation can a number have its own row and a hash-only row: the unique number stays."""
    erased_opt_out()
    with override_settings(OPT_OUT_HASH_KEY="rotated"):
        services.opt_out(NUMBER, source=OptOutEvent.Source.COORDINATOR)  # the old hash no longer matches
    assert OptOut.objects.filter(number=NUMBER).count() == 1
    stale = OptOut.objects.get(number="")
    stale.number_hash = number_hash(NUMBER)  # as if this row were the one hashed with today's key
    stale.save()
    OptOut.objects.filter(number=NUMBER).update(number_hash="hashed with the rotated key")

    assert services.relink_opt_outs(numbers=[NUMBER]) == 0
    assert OptOut.objects.filter(number=NUMBER).count() == 1


@pytest.mark.parametrize("count", [1, services.OPT_OUT_SCAN_ABOVE + 1], ids=["a few numbers", "an import's worth"])
def test_relinking_costs_one_query_when_nothing_is_hash_only(count, django_assert_num_queries):
    services.opt_out(OTHER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")  # listed, with its number
    numbers = [f"+4477009{n:05d}" for n in range(count)]
    # 1: SELECT the hash-only rows (matching these hashes, or all of them for many numbers): none
    with django_assert_num_queries(1):
        assert services.relink_opt_outs(numbers=numbers) == 0


def test_relinking_many_numbers_finds_the_erased_one_among_them(django_assert_num_queries):
    erased_opt_out()
    erased_opt_out(OTHER)
    numbers = [f"+4477009{n:05d}" for n in range(1000, 1000 + services.OPT_OUT_SCAN_ABOVE)] + [NUMBER]
    # 1 the hash-only rows, 2 lock the matched one, 3 numbers listed already, 4 its UPDATE, 5 the event's INSERT
    with django_assert_num_queries(5):
        assert services.relink_opt_outs(numbers=numbers, via="delegate import") == 1
    assert set(OptOut.objects.values_list("number", flat=True)) == {NUMBER, ""}
