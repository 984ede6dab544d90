"""The briefings bench's own safety and bookkeeping: it never aims at the real Twilio, texts only drama-range
numbers, and counts each request at the fake Twilio by the outbox id in its status-callback URL."""

import pytest

from bench import briefings as bench
from delegates.models import Delegate
from messaging.phones import is_fictional
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory
from tests.messaging.fake_twilio import Recorded


@pytest.mark.parametrize(
    ("environ", "refused"),
    [
        ({}, False),
        ({"SMS_BACKEND": "console"}, False),
        ({"SMS_BACKEND": "twilio"}, True),  # no base URL: Twilio's own
        ({"SMS_BACKEND": "twilio", "TWILIO_API_BASE_URL": "https://api.twilio.com"}, True),
        ({"SMS_BACKEND": " Twilio ", "TWILIO_API_BASE_URL": "https://staging.example.org"}, True),
        ({"SMS_BACKEND": "twilio", "TWILIO_API_BASE_URL": "http://127.0.0.1:8123"}, False),
    ],
)
def test_the_bench_refuses_to_run_with_the_twilio_backend_aimed_anywhere_but_this_machine(environ, refused):
    assert bool(bench.refuses_real_twilio(environ)) is refused


def test_requests_are_counted_by_the_outbox_id_in_their_status_callback():
    def request(callback):
        params = {"To": "+447700900001", "Body": "Hi", "StatusCallback": callback}
        return Recorded("POST", "/Messages.json", params, at=0.0, answer="201", status=201, authorised=True)

    assert bench.message_id(request("http://localhost:8000/sms/twilio/status/?message=42")) == 42
    assert bench.message_id(request("")) is None


def test_the_busiest_window_lists_the_requests_max_in_any_window_counts():
    times = [0.0, 1.0, 1.1, 1.2, 1.9, 3.0]
    assert bench.busiest_window(times) == [1.0, 1.1, 1.2, 1.9]


@pytest.mark.django_db
def test_every_delegate_is_numbered_in_delegation_order_and_the_delivery_sample_stays_in_the_drama_range(conference):
    first, second, third = (OrganisationFactory(name=f"CLP {i}") for i in range(3))
    for organisation, size in ((first, 3), (second, 2), (third, 4)):
        for _ in range(size):
            DelegateFactory(conference=conference, organisation=organisation, mobile="")
    SmsConsentFactory(delegate=Delegate.objects.filter(organisation=second).first())

    bench.number_every_delegate(conference)

    delegates = Delegate.objects.for_conference(conference).order_by("organisation_id", "pk")
    assert [d.mobile for d in delegates] == [f"+447700900{n:03d}" for n in range(9)]
    assert delegates.textable().count() == 9  # one consent each, the existing one kept
    assert bench.delegations_adding_up_to(conference, 6) == [first, second]  # whole delegations, at most 6
    assert all(is_fictional(d.mobile) for d in delegates)


def test_the_busiest_window_counts_segments_as_the_rate_limit_does():
    times = [0.0, 0.2, 0.4, 1.1, 1.15]
    assert bench.max_segments_in_any_window(times, [1, 2, 2, 1, 1]) == 6  # 0.2–1.15: 2 + 2 + 1 + 1
    assert bench.max_segments_in_any_window(times, [3, 1, 1, 1, 1]) == 5  # 0.0–0.4, and 0.2–1.15 holds only 4
    assert bench.max_segments_in_any_window([0.0, 1.0], [2, 2]) == 2  # a window is half-open
    assert bench.max_segments_in_any_window([], []) == 0
