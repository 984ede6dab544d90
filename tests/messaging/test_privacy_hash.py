import hashlib

import pytest
from django.test import override_settings

from messaging import services
from messaging.models import OptOut, OptOutEvent, OutboundMessage
from messaging.privacy import number_hash
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)


def test_number_hash_is_keyed_stable_and_not_the_bare_hash():
    number = "+447700900123"
    first = number_hash(number)
    assert first == number_hash(number)
    assert first != hashlib.sha256(number.encode()).hexdigest()
    assert first != number_hash("+447700900124")
    with override_settings(OPT_OUT_HASH_KEY="another key"):
        assert number_hash(number) != first


# --- The opt-out list keeps the hash: an erased number is still never texted ---------------------------------

NUMBER = "+447700900123"


@pytest.mark.django_db
def test_every_opt_out_row_carries_the_keyed_hash_of_its_number():
    services.opt_out("07700 900123", source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    row = OptOut.objects.get()
    assert row.number == NUMBER and row.number_hash == number_hash(NUMBER)


@pytest.mark.django_db
def test_an_opt_out_whose_number_was_erased_still_blocks_single_and_bulk_texts(sms):
    services.opt_out(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    assert services.forget_opt_out_number(number="07700 900123") == 1
    row = OptOut.objects.get()
    assert row.number == "" and row.number_hash == number_hash(NUMBER)
    assert list(OptOutEvent.objects.values_list("number", flat=True)) == [""]

    assert services.is_opted_out(NUMBER)
    single = services.send_sms(to=NUMBER, body="Hi", key="k1", purpose="test", marketing=False)
    batch = services.send_batch([(NUMBER, "Hi", "k2"), ("+447700900124", "Hi", "k3")], purpose="t", marketing=False)
    assert single.status == OutboundMessage.Status.SKIPPED and single.error_code == "opted_out"
    assert len(batch.skipped) == 1 and len(batch.queued) == 1
    assert OutboundMessage.objects.get(pk=batch.skipped[0]).to == NUMBER


@pytest.mark.django_db
def test_a_stop_after_erasure_finds_the_hashed_row_instead_of_adding_another():
    services.opt_out(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    services.forget_opt_out_number(number=NUMBER)
    assert services.opt_in(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="START")
    assert not services.is_opted_out(NUMBER)
    assert services.opt_out(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    assert OptOut.objects.count() == 1 and services.is_opted_out(NUMBER)


@pytest.mark.django_db
def test_two_erased_opt_outs_can_both_have_a_blank_number():
    for number in (NUMBER, "+447700900124"):
        services.opt_out(number, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
        services.forget_opt_out_number(number=number)
    assert list(OptOut.objects.values_list("number", flat=True)) == ["", ""]
