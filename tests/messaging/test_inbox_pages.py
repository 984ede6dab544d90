"""The coordinators' inbox of replies and the history of one number."""

import pytest
from django.urls import reverse

from messaging import services
from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage

NUMBER = "+447700900123"
OTHER = "+447700900456"


def outbound(to=NUMBER, *, n=0, purpose="briefing", status=OutboundMessage.Status.SENT, **fields):
    return OutboundMessage.objects.create(
        idempotency_key=f"test:{to}:{purpose}:{n}",
        to=to,
        body=f"Vote FOR composite 3 ({n}). Reply STOP to opt out",
        purpose=purpose,
        status=status,
        **fields,
    )


def reply(from_number=NUMBER, *, body="Yes, I'll be there", in_reply_to=None, n=0, **fields):
    return InboundMessage.objects.create(
        from_number=from_number,
        to_number="+447700900000",
        body=body,
        provider_sid=f"SM{from_number[-3:]}{n:04d}",
        purpose=in_reply_to.purpose if in_reply_to else "",
        in_reply_to=in_reply_to,
        **fields,
    )


def digits(number):
    return number.lstrip("+")


# --- Access -------------------------------------------------------------------------------------


@pytest.fixture
def pages(db):
    sent = outbound()
    answer = reply(in_reply_to=sent)
    return {
        "inbox": ("get", reverse("inbox:list")),
        "history-in": ("get", reverse("inbox:number-history", args=["in", answer.pk])),
        "history-out": ("get", reverse("inbox:number-history", args=["out", sent.pk])),
        "handled": ("post", reverse("inbox:handled", args=[answer.pk])),
        "lookup": ("post", reverse("inbox:number-lookup")),
        "opt-out": ("post", reverse("inbox:number-opt-out", args=["in", answer.pk])),
    }


def test_anonymous_visitors_are_sent_to_log_in_from_every_page(client, pages):
    for name, (method, url) in pages.items():
        response = getattr(client, method)(url, {"number": NUMBER} if method == "post" else None)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_logged_in_non_coordinators_get_403_and_change_nothing(outsider_client, pages):
    for name, (method, url) in pages.items():
        response = getattr(outsider_client, method)(url, {"number": NUMBER} if method == "post" else None)
        assert response.status_code == 403, name
    assert not InboundMessage.objects.filter(handled=True).exists()
    assert not OptOut.objects.exists()


def test_history_of_an_unknown_id_is_404(coordinator_client, db):
    assert coordinator_client.get(reverse("inbox:number-history", args=["in", 999])).status_code == 404
    assert coordinator_client.get(reverse("inbox:list") + "number/sideways/1/").status_code == 404


# --- Inbox --------------------------------------------------------------------------------------


def test_inbox_lists_waiting_replies_with_masked_numbers_and_what_they_answer(coordinator_client):
    sent = outbound()
    reply(in_reply_to=sent, body="Count me in for Tuesday")

    response = coordinator_client.get(reverse("inbox:list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Count me in for Tuesday" in html
    assert "+447••••••123" in html
    assert digits(NUMBER) not in html  # the number is masked until a coordinator opens it
    assert "briefing" in html
    assert "Mark handled" in html
    assert response.context["unhandled_count"] == 1


def test_inbox_hides_handled_replies_unless_asked_for_all(coordinator_client, coordinator):
    reply(body="still waiting", n=1)
    reply(body="dealt with", n=2, handled=True, handled_by=coordinator)

    waiting = coordinator_client.get(reverse("inbox:list")).content.decode()
    everything = coordinator_client.get(reverse("inbox:list"), {"show": "all"}).content.decode()

    assert "still waiting" in waiting
    assert "dealt with" not in waiting
    assert "dealt with" in everything
    assert "by cora" in everything


def test_marking_a_reply_handled_records_who_and_when(coordinator_client, coordinator):
    answer = reply()

    response = coordinator_client.post(reverse("inbox:handled", args=[answer.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:list")
    answer.refresh_from_db()
    assert answer.handled
    assert answer.handled_by == coordinator
    assert answer.handled_at is not None


def test_marking_an_already_handled_reply_keeps_the_first_coordinators_name(coordinator_client, second_coordinator):
    answer = reply()
    services.mark_inbound_handled(answer, by=second_coordinator)

    coordinator_client.post(reverse("inbox:handled", args=[answer.pk]), {"show": "all"}, follow=True)

    answer.refresh_from_db()
    assert answer.handled_by == second_coordinator


def test_mark_handled_refuses_get(coordinator_client):
    answer = reply()

    assert coordinator_client.get(reverse("inbox:handled", args=[answer.pk])).status_code == 405
    answer.refresh_from_db()
    assert not answer.handled


def test_no_page_link_carries_a_phone_number(coordinator_client):
    sent = outbound()
    reply(in_reply_to=sent)

    html = coordinator_client.get(reverse("inbox:list"), {"show": "all"}).content.decode()

    hrefs = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert hrefs
    assert not [h for h in hrefs if "7700900" in h]


@pytest.mark.parametrize("rows", [10, 60])
def test_inbox_query_count_does_not_grow_with_the_replies(
    coordinator_client, coordinator, rows, django_assert_max_num_queries
):
    for n in range(rows):
        sent = outbound(f"+447700900{n:03d}", n=n)
        reply(sent.to, in_reply_to=sent, n=n, handled=n % 3 == 0, handled_by=coordinator if n % 3 == 0 else None)

    # session, user, coordinators group, page count, page of replies with their texts and handlers,
    # unhandled and opt-out-request counts, the delegates and the volunteers behind the page's numbers (one
    # per contact resolver), which of the page's numbers have opted out.
    with django_assert_max_num_queries(9):
        response = coordinator_client.get(reverse("inbox:list"), {"show": "all"})

    assert response.status_code == 200
    assert len(response.context["replies"]) == min(rows, 50)


# --- History of a number ------------------------------------------------------------------------


def test_history_shows_the_full_number_with_texts_replies_and_opt_outs(coordinator_client):
    sent = outbound(n=1, error_code="21614", error_message="Not a mobile number", status=OutboundMessage.Status.FAILED)
    outbound(n=2, purpose="volunteer_reminder")
    outbound(OTHER, n=3)
    answer = reply(in_reply_to=sent, body="Who is this?")
    services.opt_out(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="Stop")

    response = coordinator_client.get(reverse("inbox:number-history", args=["in", answer.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert NUMBER in html
    assert response.context["outbound_count"] == 2  # not the other number's text
    assert "volunteer_reminder" in html
    assert "21614" in html
    assert "Who is this?" in html
    assert "Texted a keyword" in html
    assert "“Stop”" in html
    assert "Opted out" in html
    assert "Opt this number out" not in html  # already out


def test_history_from_a_sent_text_is_the_same_page(coordinator_client):
    sent = outbound()
    reply(in_reply_to=sent, body="See you there")

    response = coordinator_client.get(reverse("inbox:number-history", args=["out", sent.pk]))

    assert response.context["number"] == NUMBER
    assert "See you there" in response.content.decode()


@pytest.mark.parametrize("rows", [10, 60])
def test_history_query_count_does_not_grow_with_the_history(coordinator_client, rows, django_assert_max_num_queries):
    for n in range(rows):
        sent = outbound(n=n)
        answer = reply(in_reply_to=sent, n=n)
    for _ in range(rows // 10):
        services.opt_out(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
        services.opt_in(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="START")

    # session, user, coordinators group, the reply's number, texts, texts count, replies with their
    # texts and handlers, opt-out events, opt-out state, the delegate and the volunteer behind the number.
    with django_assert_max_num_queries(11):
        response = coordinator_client.get(reverse("inbox:number-history", args=["in", answer.pk]))

    assert response.status_code == 200
    assert len(response.context["outbound"]) == rows
    assert len(response.context["opt_out_events"]) == rows // 10 * 2


# --- Looking a number up ------------------------------------------------------------------------


def test_a_typed_number_is_posted_and_lands_on_an_id_based_history(coordinator_client):
    sent = outbound()

    response = coordinator_client.post(reverse("inbox:number-lookup"), {"number": "07700 900123"})

    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:number-history", args=["out", sent.pk])
    assert "7700900" not in response["Location"]


def test_a_number_that_only_replied_lands_on_its_reply(coordinator_client):
    answer = reply(OTHER)

    response = coordinator_client.post(reverse("inbox:number-lookup"), {"number": "+44 (0)7700 900456"})

    assert response["Location"] == reverse("inbox:number-history", args=["in", answer.pk])


def test_a_number_never_texted_shows_an_empty_history_without_an_opt_out_button(coordinator_client):
    response = coordinator_client.post(reverse("inbox:number-lookup"), {"number": "07700900999"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "+447700900999" in html
    assert "No texts have been sent to this number." in html
    assert "Opt this number out" not in html


@pytest.mark.parametrize("typed", ["", "not a number", "01632 960000", "0" * 60])
def test_an_unusable_number_is_a_field_error_not_a_500(coordinator_client, typed):
    response = coordinator_client.post(reverse("inbox:number-lookup"), {"number": typed})

    assert response.status_code == 400
    assert response.context["lookup_form"].errors["number"]
    assert 'role="alert"' in response.content.decode()


def test_the_lookup_address_without_a_form_goes_back_to_the_inbox(coordinator_client):
    response = coordinator_client.get(reverse("inbox:number-lookup"))

    assert response["Location"] == reverse("inbox:list")


# --- Opting a number out ------------------------------------------------------------------------


def test_a_coordinator_can_opt_a_number_out_and_it_is_recorded_as_theirs(coordinator_client):
    sent = outbound()

    response = coordinator_client.post(reverse("inbox:number-opt-out", args=["out", sent.pk]), follow=True)

    assert services.is_opted_out(NUMBER)
    [event] = OptOutEvent.objects.filter(number=NUMBER)
    assert (event.action, event.source) == (OptOutEvent.Action.OPT_OUT, OptOutEvent.Source.COORDINATOR)
    assert "until it texts START" in response.content.decode()


def test_opting_out_twice_writes_no_second_event(coordinator_client):
    sent = outbound()
    url = reverse("inbox:number-opt-out", args=["out", sent.pk])

    coordinator_client.post(url)
    response = coordinator_client.post(url, follow=True)

    assert OptOutEvent.objects.filter(number=NUMBER).count() == 1
    assert "already opted out" in response.content.decode()
