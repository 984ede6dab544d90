"""Replies to briefings: FOR / AGAINST / UNSURE (and the ways people type them) become proposed stance changes that a
coordinator accepts or rejects with one tap; anything else stays in the replies inbox; STOP always wins."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from lobbying import briefings, replies, services
from lobbying.models import Level, Motion, ProposedStance, StanceChange
from lobbying.replies import read_stance_reply
from messaging import services as messaging_services
from messaging.models import OptOut
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)
from tests.services import require_postgres

F, LF, U, LA, A = Level.FOR, Level.LEANING_FOR, Level.UNDECIDED, Level.LEANING_AGAINST, Level.AGAINST

# Real-looking replies to "Composite 3 is up after lunch: please vote FOR", and what they state.
READ_AS = [
    ("FOR", F),
    ("for", F),
    ("FOR!", F),
    ("For.", F),
    ("Yes I'm for it", F),
    ("yes", F),
    ("Yes!!", F),
    ("YESSS", F),
    ("yep", F),
    ("I'll vote for", F),
    ("I’ll be voting for it", F),
    ("We're all for it!", F),
    ("Yes for composite 3", F),
    ("Definitely for", F),
    ("for sure", F),
    ("In favour", F),
    ("I support it", F),
    ("FOR 👍", F),
    ("👍", F),
    ("👍🏽", F),
    ("Will do, thanks", F),
    ("ＦＯＲ", F),  # full-width letters
    ("Fοr", F),  # a Greek omicron
    ("FOR 💪🌹", F),
    ("Hi comrade, for. Solidarity x", F),
    ("against", A),
    ("AGAINST", A),
    ("Against.", A),
    ("no", A),
    ("No.", A),
    ("nope", A),
    ("voting against", A),
    ("I'm voting against it", A),
    ("Opposed.", A),
    ("No, against", A),
    ("Sorry, I'll vote no", A),
    ("👎", A),
    ("not sure", U),
    ("Not sure yet", U),
    ("I’m not sure", U),
    ("undecided", U),
    ("Undecided at the moment", U),
    ("undecided for now", U),
    ("unsure", U),
    ("UNSURE", U),
    ("maybe", U),
    ("Maybe.", U),
    ("don't know", U),
    ("I DON'T KNOW", U),
    ("dunno", U),
    ("no idea", U),
    ("Haven't decided yet", U),
    ("on the fence", U),
    ("still thinking about it", U),
    ("🤷", U),
    ("probably for", LF),
    ("Leaning towards for", LF),
    ("maybe for", LF),
    ("probably against", LA),
    ("leaning against", LA),
]

# Replies that do not clearly state a stance: a person reads them in the inbox.
NOT_READ = [
    "for or against?",
    "for or against",
    "not for",
    "against? no, for",
    "Not against",
    "I won't vote against",
    "I don't support it",
    "Never for",
    "For?",
    "Is this the FOR one?",
    "What time is the vote",
    "Thanks for the text",
    "thanks for that",
    "cheers for the reminder",
    "no thanks",
    "maybe against, maybe for",
    "yes and no",
    "for, but not sure",
    "Who is this",
    "Call me",
    "Abstaining",
    "ok",
    "thanks",
    "",
    "   ",
    "🌹",
    "STOP",
    "stop texting me, I'm against",
    "Can you send me the text of composite 3 for our delegation",
    "for " * 25,
]


@pytest.mark.parametrize(("text", "level"), READ_AS)
def test_a_reply_that_states_a_stance_is_read_as_that_level(text, level):
    assert read_stance_reply(text) == level


@pytest.mark.parametrize("text", NOT_READ)
def test_a_reply_that_does_not_clearly_state_a_stance_is_not_read(text):
    assert read_stance_reply(text) is None


@pytest.mark.parametrize(
    ("text", "position", "level"),
    [
        ("yes", Motion.Position.SUPPORT, F),
        ("no", Motion.Position.SUPPORT, A),
        ("yes", Motion.Position.OPPOSE, A),  # "please vote AGAINST": yes means against
        ("no", Motion.Position.OPPOSE, F),
        ("yes", Motion.Position.WATCH, None),  # we asked nothing: yes to what?
        ("FOR", Motion.Position.OPPOSE, F),  # a stance word means what it says, whatever we asked
        ("Yes, against", Motion.Position.SUPPORT, A),
        ("against", Motion.Position.WATCH, A),
    ],
)
def test_yes_and_no_answer_the_briefings_ask_while_stance_words_mean_what_they_say(text, position, level):
    assert read_stance_reply(text, position=position) == level


# Replies through messaging ------------------------------------------------------------------------------------------


@pytest.fixture
def briefed(conference, coordinator, sms, dispatched):
    """A support motion, two consenting delegates, and a briefing about it sent to both."""
    require_postgres()  # send_batch's bulk insert
    motion = services.create_motion(
        conference=conference, title="Scrap the cap", text="Conference notes.", position=Motion.Position.SUPPORT
    )
    wirral = OrganisationFactory(name="Wirral West")
    ada = DelegateFactory(
        conference=conference, organisation=wirral, first_name="Ada", last_name="Lovelace", mobile="+447700900001"
    )
    bob = DelegateFactory(
        conference=conference, organisation=wirral, first_name="Bob", last_name="Crow", mobile="+447700900002"
    )
    for delegate in (ada, bob):
        SmsConsentFactory(delegate=delegate)
    briefing = briefings.compose_briefing(
        conference=conference, body="Please vote FOR {motion} after lunch", created_by=coordinator, motion=motion
    )
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    return {"motion": motion, "ada": ada, "bob": bob, "briefing": briefing}


def reply(delegate, body, sid):
    return messaging_services.receive_inbound(
        from_number=delegate.mobile, to_number="+447700900999", body=body, provider_sid=sid
    )


pytestmark = pytest.mark.django_db


def test_a_for_reply_to_a_briefing_becomes_a_pending_proposal_and_leaves_the_inbox(briefed):
    inbound = reply(briefed["ada"], "Yes I'm for it", "SM1")

    proposal = ProposedStance.objects.get()
    assert (proposal.delegate, proposal.motion, proposal.briefing) == (
        briefed["ada"],
        briefed["motion"],
        briefed["briefing"],
    )
    assert (proposal.level, proposal.status, proposal.inbound) == (F, ProposedStance.Status.PENDING, inbound)
    inbound.refresh_from_db()
    assert inbound.handled and inbound.purpose == "briefing"
    assert not StanceChange.objects.exists()  # nothing counts until a coordinator accepts


def test_one_reply_makes_one_proposal_however_often_it_arrives_or_is_handled(briefed):
    inbound = reply(briefed["ada"], "FOR", "SM1")
    reply(briefed["ada"], "FOR", "SM1")  # Twilio retries the webhook
    assert replies.handle_briefing_reply(inbound) is True  # the handler run again
    assert ProposedStance.objects.count() == 1


def test_each_delegate_gets_their_own_proposal(briefed):
    reply(briefed["ada"], "for", "SM1")
    reply(briefed["bob"], "not sure", "SM2")
    assert set(ProposedStance.objects.values_list("delegate__first_name", "level")) == {("Ada", F), ("Bob", U)}


@pytest.mark.parametrize("body", ["for or against?", "What time is the vote", "not for", "Thanks for the text"])
def test_a_reply_that_is_not_a_stance_stays_in_the_inbox(briefed, body):
    inbound = reply(briefed["ada"], body, "SM1")
    inbound.refresh_from_db()
    assert not inbound.handled
    assert not ProposedStance.objects.exists()


@pytest.mark.parametrize("body", ["STOP", "stop", "Stop texting me, I'm against", "STOP - against", "unsubscribe"])
def test_stop_wins_over_any_stance_in_the_reply(briefed, body):
    inbound = reply(briefed["ada"], body, "SM1")
    assert inbound.keyword == "STOP"
    assert OptOut.objects.get(number=briefed["ada"].mobile).opted_out
    assert not ProposedStance.objects.exists()


def test_a_plain_words_opt_out_request_with_a_stance_stays_waiting_for_a_person(briefed):
    inbound = reply(briefed["ada"], "against, and please don't text me again", "SM1")
    inbound.refresh_from_db()
    assert inbound.looks_like_opt_out and not inbound.handled  # the inbox shows it first with its opt-out button
    assert not ProposedStance.objects.exists()


def test_a_briefing_without_a_motion_makes_no_proposal(conference, coordinator, sms, dispatched):
    require_postgres()
    ada = DelegateFactory(conference=conference, mobile="+447700900001")
    SmsConsentFactory(delegate=ada)
    briefing = briefings.compose_briefing(conference=conference, body="Fringe at 6pm, room 4", created_by=coordinator)
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    inbound = reply(ada, "FOR", "SM1")
    inbound.refresh_from_db()
    assert not inbound.handled
    assert not ProposedStance.objects.exists()


def test_a_reply_to_another_kind_of_text_makes_no_proposal(conference, sms):
    ada = DelegateFactory(conference=conference, mobile="+447700900001")
    messaging_services.send_sms(to=ada.mobile, body="Vote FOR", key="volunteers:offer:1", purpose="volunteer_offer")
    reply(ada, "FOR", "SM1")
    assert not ProposedStance.objects.exists()


# Accepting and rejecting ------------------------------------------------------------------------------------------


def test_accepting_records_the_delegates_own_text_as_their_stance_at_the_time_they_sent_it(briefed, coordinator):
    inbound = reply(briefed["ada"], "against", "SM1")
    proposal = replies.accept_proposed_stance(proposal=ProposedStance.objects.get(), by=coordinator)

    change = StanceChange.objects.get()
    assert (change.delegate, change.motion, change.level) == (briefed["ada"], briefed["motion"], A)
    assert (change.source, change.recorded_by, change.at) == ("own_text", coordinator, inbound.received_at)
    assert "against" in change.note
    assert (proposal.status, proposal.decided_by, proposal.stance_change) == ("accepted", coordinator, change)
    assert proposal.decided_at is not None
    inbound.refresh_from_db()
    assert inbound.handled_by == coordinator  # the inbox shows who dealt with the reply


def test_accepting_an_older_reply_does_not_override_a_later_conversation(briefed, coordinator):
    reply(briefed["ada"], "against", "SM1")
    services.record_stance(delegate=briefed["ada"], motion=briefed["motion"], level=F, source="conversation")
    replies.accept_proposed_stance(proposal=ProposedStance.objects.get(), by=coordinator)
    latest = StanceChange.objects.filter(delegate=briefed["ada"]).order_by("-at", "-pk").first()
    assert latest.level == F


def test_accepting_twice_is_refused_with_who_decided_it(briefed, coordinator, second_coordinator):
    reply(briefed["ada"], "for", "SM1")
    proposal = ProposedStance.objects.get()
    replies.accept_proposed_stance(proposal=proposal, by=coordinator)
    with pytest.raises(ValidationError) as refused:
        replies.accept_proposed_stance(proposal=proposal, by=second_coordinator)
    assert "already accepted by Cora" in refused.value.message_dict["status"][0]
    with pytest.raises(ValidationError, match="already accepted"):
        replies.reject_proposed_stance(proposal=proposal, by=second_coordinator)
    assert StanceChange.objects.count() == 1


def test_rejecting_records_nothing_and_cannot_be_accepted_afterwards(briefed, coordinator):
    reply(briefed["ada"], "for", "SM1")
    proposal = replies.reject_proposed_stance(proposal=ProposedStance.objects.get(), by=coordinator)
    assert (proposal.status, proposal.decided_by) == ("rejected", coordinator)
    with pytest.raises(ValidationError, match="already rejected"):
        replies.accept_proposed_stance(proposal=proposal, by=coordinator)
    with pytest.raises(ValidationError, match="already rejected"):
        replies.reject_proposed_stance(proposal=proposal, by=coordinator)
    assert not StanceChange.objects.exists()


# Two coordinators at once (real PostgreSQL, real commits, one connection per thread) --------------------------------


def _at_once(action, proposal_id, coordinators):
    """Both coordinators read the pending proposal, then act at the same moment; returns results and refusals."""
    both_read = threading.Barrier(2)
    results, refusals, errors = [], [], []

    def tap(user):
        try:
            proposal = ProposedStance.objects.get(pk=proposal_id)
            both_read.wait(timeout=10)
            results.append(action(proposal=proposal, by=user))
        except ValidationError as exc:
            refusals.append(exc)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(user,)) for user in coordinators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results, refusals


def accept_without_the_lock(*, proposal, by):
    """What accepting would be without select_for_update: it saw "pending", so it records."""
    if proposal.status != ProposedStance.Status.PENDING:
        raise ValidationError("already decided")
    change = services.record_stance(delegate=proposal.delegate, motion=proposal.motion, level=proposal.level,
                                    source="own_text", recorded_by=by)  # fmt: skip
    ProposedStance.objects.filter(pk=proposal.pk).update(status="accepted", decided_by=by, stance_change=change)
    return proposal


@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_two_coordinators_both_record_the_stance(briefed, coordinator, second_coordinator):
    reply(briefed["ada"], "for", "SM1")
    results, refusals = _at_once(
        accept_without_the_lock, ProposedStance.objects.get().pk, [coordinator, second_coordinator]
    )
    assert (len(results), len(refusals)) == (2, 0)
    assert StanceChange.objects.count() == 2  # the race exists


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", [replies.accept_proposed_stance, replies.reject_proposed_stance])
def test_two_coordinators_tapping_at_once_decide_once(briefed, coordinator, second_coordinator, second):
    reply(briefed["ada"], "for", "SM1")
    proposal_id = ProposedStance.objects.get().pk
    both_read = threading.Barrier(2)
    outcomes, errors = [], []

    def tap(action, user):
        try:
            proposal = ProposedStance.objects.get(pk=proposal_id)
            both_read.wait(timeout=10)
            outcomes.append(action(proposal=proposal, by=user).status)
        except ValidationError as exc:
            outcomes.append(exc.message_dict["status"][0])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=tap, args=(replies.accept_proposed_stance, coordinator)),
        threading.Thread(target=tap, args=(second, second_coordinator)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    decided = [outcome for outcome in outcomes if outcome in ("accepted", "rejected")]
    assert len(decided) == 1, outcomes
    assert sum("already" in outcome for outcome in outcomes) == 1, outcomes
    assert StanceChange.objects.count() == (1 if decided == ["accepted"] else 0)


# The page --------------------------------------------------------------------------------------------------------


def test_the_page_lists_waiting_replies_newest_first_with_the_stance_now_and_proposed(briefed, coordinator_client):
    services.record_stance(delegate=briefed["bob"], motion=briefed["motion"], level=A, source="conversation")
    reply(briefed["ada"], "Yes I'm for it", "SM1")
    reply(briefed["bob"], "not sure yet", "SM2")

    response = coordinator_client.get(reverse("lobbying:proposal-list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Bob Crow") < page.index("Ada Lovelace")  # newest first
    assert "Wirral West" in page and "Scrap the cap" in page
    assert "“Yes I&#x27;m for it”" in page and "“not sure yet”" in page
    bob = page[page.index("Bob Crow") : page.index("Ada Lovelace")]
    assert bob.index("Against") < bob.index("Undecided")  # now → proposed
    assert page.count('type="submit" class="button button-primary">Accept') == 2


def test_one_tap_accept_records_the_stance_and_takes_the_reply_off_the_page(briefed, coordinator_client, coordinator):
    reply(briefed["ada"], "against", "SM1")
    proposal = ProposedStance.objects.get()
    url = reverse("lobbying:proposal-accept", args=[proposal.pk])

    response = coordinator_client.post(url, {"motion": briefed["motion"].pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('lobbying:proposal-list')}?motion={briefed['motion'].pk}"
    assert "Recorded: Ada Lovelace is against on Scrap the cap." in response.content.decode()
    assert StanceChange.objects.get().level == A
    assert 'class="person proposal"' not in response.content.decode()

    # A second tap (or a second coordinator's) is a message, not an error page.
    again = coordinator_client.post(url, follow=True)
    assert again.status_code == 200
    assert "already accepted by Cora" in again.content.decode()
    assert StanceChange.objects.count() == 1


def test_one_tap_reject_records_nothing(briefed, coordinator_client):
    reply(briefed["ada"], "for", "SM1")
    proposal = ProposedStance.objects.get()
    response = coordinator_client.post(reverse("lobbying:proposal-reject", args=[proposal.pk]), follow=True)
    assert "Rejected: Ada Lovelace" in response.content.decode()
    assert not StanceChange.objects.exists()
    proposal.refresh_from_db()
    assert proposal.status == "rejected"


def test_the_page_filters_by_motion_and_a_bad_filter_is_a_field_error(briefed, coordinator_client, conference):
    reply(briefed["ada"], "for", "SM1")
    other = services.create_motion(conference=conference, title="Another motion", text="Conference notes.")
    url = reverse("lobbying:proposal-list")
    assert "Ada Lovelace" in coordinator_client.get(url, {"motion": briefed["motion"].pk}).content.decode()
    assert "Ada Lovelace" not in coordinator_client.get(url, {"motion": other.pk}).content.decode()
    response = coordinator_client.get(url, {"motion": "nonsense"})
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()


def test_deciding_an_unknown_proposal_is_a_404_and_get_is_not_allowed(coordinator_client):
    assert coordinator_client.post(reverse("lobbying:proposal-accept", args=[999])).status_code == 404
    assert coordinator_client.get(reverse("lobbying:proposal-accept", args=[999])).status_code == 405


def test_the_dashboard_says_how_many_replies_wait(briefed, coordinator_client):
    reply(briefed["ada"], "for", "SM1")
    reply(briefed["bob"], "against", "SM2")
    page = coordinator_client.get(reverse("dashboard")).content.decode()
    assert "2 replies to briefings state a stance" in page
    assert reverse("lobbying:proposal-list") in page


@pytest.mark.parametrize("replying", [2, 12])
def test_the_page_takes_the_same_queries_however_many_replies_wait(
    conference, coordinator, sms, dispatched, coordinator_client, django_assert_max_num_queries, replying
):
    require_postgres()
    motion = services.create_motion(conference=conference, title="Scrap the cap", text="Conference notes.")
    people = []
    for i in range(replying):
        delegate = DelegateFactory(conference=conference, mobile=f"+4477009001{i:02d}")
        SmsConsentFactory(delegate=delegate)
        people.append(delegate)
    briefing = briefings.compose_briefing(conference=conference, body="Vote FOR", created_by=coordinator, motion=motion)
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    for i, delegate in enumerate(people):
        if i % 2:
            services.record_stance(delegate=delegate, motion=motion, level=U, source="conversation")
        reply(delegate, "for", f"SM{i}")
    assert ProposedStance.objects.count() == replying

    # session, user, coordinator group; conference; the count for the paginator; one page of proposals with
    # delegate, organisation, motion, reply and current stance; the motion picker's options.
    with django_assert_max_num_queries(7):
        response = coordinator_client.get(reverse("lobbying:proposal-list"))
    assert response.content.decode().count('class="person proposal"') == replying


# The API ---------------------------------------------------------------------------------------------------------


def test_the_api_lists_pending_proposals_and_accepts_one(briefed, api_client, coordinator):
    reply(briefed["ada"], "for", "SM1")
    reply(briefed["bob"], "against", "SM2")
    listed = api_client.get(reverse("api-proposed-stance-list"), {"motion": briefed["motion"].pk})
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert [(row["delegate_name"], row["level"], row["current_level"]) for row in rows] == [
        ("Bob Crow", "against", None),
        ("Ada Lovelace", "for", None),
    ]
    assert rows[1]["reply"] == "for" and rows[1]["status"] == "pending" and rows[1]["organisation"] == "Wirral West"

    accepted = api_client.post(reverse("api-proposed-stance-accept", args=[rows[1]["id"]]))
    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert (body["status"], body["decided_by"], body["current_level"]) == ("accepted", "cora", "for")
    assert StanceChange.objects.get().pk == body["stance_change"]

    # Accepted ones leave the default (pending) list; ?status= shows them.
    assert [row["delegate_name"] for row in api_client.get(reverse("api-proposed-stance-list")).json()["results"]] == [
        "Bob Crow"
    ]
    done = api_client.get(reverse("api-proposed-stance-list"), {"status": "accepted"}).json()["results"]
    assert [row["delegate_name"] for row in done] == ["Ada Lovelace"]


def test_the_api_refuses_deciding_twice_and_bad_filters_with_a_400(briefed, api_client):
    reply(briefed["ada"], "for", "SM1")
    proposal = ProposedStance.objects.get()
    assert api_client.post(reverse("api-proposed-stance-reject", args=[proposal.pk])).status_code == 200
    again = api_client.post(reverse("api-proposed-stance-accept", args=[proposal.pk]))
    assert again.status_code == 400
    assert "already rejected by cora" in again.json()["status"][0].lower()
    assert api_client.post(reverse("api-proposed-stance-accept", args=[999])).status_code == 404
    for params in ({"motion": "x"}, {"status": "maybe"}, {"conference": "abc"}):
        response = api_client.get(reverse("api-proposed-stance-list"), params)
        assert response.status_code == 400, params
        assert set(response.json()) == set(params)


def test_the_api_schema_declares_the_400(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    accept = schema["paths"]["/api/proposed-stances/{id}/accept/"]["post"]
    assert {"200", "400"} <= set(accept["responses"])


def test_an_erased_delegates_reply_is_not_proposed_and_their_waiting_proposal_cannot_be_accepted(
    briefed, coordinator, coordinator_client
):
    from delegates.services import erase_delegates

    reply(briefed["ada"], "for", "SM1")
    proposal = ProposedStance.objects.get()
    erase_delegates(delegate_ids=[briefed["ada"].pk])
    assert 'class="person proposal"' not in coordinator_client.get(reverse("lobbying:proposal-list")).content.decode()
    with pytest.raises(ValidationError, match="erased"):
        replies.accept_proposed_stance(proposal=proposal, by=coordinator)
    assert not StanceChange.objects.exists()
