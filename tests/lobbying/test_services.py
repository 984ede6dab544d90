"""Every lobbying change goes through one service that refuses bad input with a reason and writes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.signing import TimestampSigner
from django.utils import timezone

from lobbying import selectors, services
from lobbying.models import (
    Level,
    Motion,
    MotionStatus,
    MotionStatusChange,
    StanceChange,
    Subject,
    Submission,
    SubmissionStageChange,
)
from tests.factories import ConferenceFactory, DelegateFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def _walk(motion, *steps):
    for status, reason in steps:
        motion = services.transition_motion(motion=motion, to_status=status, reason=reason)
    return motion


def test_a_motion_over_the_conference_word_limit_is_refused_with_the_count(conference):
    with pytest.raises(ValidationError) as caught:
        services.create_motion(conference=conference, title="Short title", text="word " * 251)
    assert caught.value.message_dict["text"] == ["251 of 250 words: shorten the text."]
    with pytest.raises(ValidationError) as caught:
        services.create_motion(
            conference=conference, title="one two three four five six seven eight nine ten eleven", text="x"
        )
    assert "11 of 10 words" in caught.value.message_dict["title"][0]
    assert not Motion.objects.exists()


def test_word_limits_come_from_the_conference_rules(conference):
    conference.motion_text_max_words = 300
    conference.save()
    motion = services.create_motion(conference=conference, title="Long", text="word " * 300)
    assert motion.text_words == 300


def test_a_motion_walks_its_life_cycle_and_keeps_its_history(motion):
    motion = _walk(
        motion,
        (MotionStatus.SUBMITTED, ""),
        (MotionStatus.RULED_OUT, "Not contemporary"),
        (MotionStatus.RULED_IN, "Appeal upheld"),
        (MotionStatus.PRIORITISED, ""),
    )
    motion = services.transition_motion(
        motion=motion, to_status=MotionStatus.SCHEDULED, scheduled_for=timezone.now(), session="Tuesday am"
    )
    assert motion.status == MotionStatus.SCHEDULED
    assert motion.cac_reason == "Appeal upheld"
    history = list(motion.status_changes.order_by("at", "pk").values_list("from_status", "to_status"))
    assert history[0] == ("", "draft")
    assert history[-1] == ("prioritised", "scheduled")
    assert len(history) == 6


@pytest.mark.parametrize(
    ("to_status", "field", "message"),
    [
        (MotionStatus.RULED_IN, "to_status", "A motion that is draft cannot become ruled in order."),
        (MotionStatus.CARRIED, "to_status", "Enter the result of the vote: carried or lost follows from it."),
        ("sideways", "to_status", "“sideways” is not a motion status."),
    ],
)
def test_impossible_transitions_are_refused_with_a_reason_and_write_nothing(motion, to_status, field, message):
    with pytest.raises(ValidationError) as caught:
        services.transition_motion(motion=motion, to_status=to_status)
    assert caught.value.message_dict[field] == [message]
    motion.refresh_from_db()
    assert motion.status == MotionStatus.DRAFT
    assert MotionStatusChange.objects.filter(motion=motion).count() == 1


def test_ruling_a_motion_out_needs_the_cac_reason(motion):
    motion = _walk(motion, (MotionStatus.SUBMITTED, ""))
    with pytest.raises(ValidationError) as caught:
        services.transition_motion(motion=motion, to_status=MotionStatus.RULED_OUT)
    assert "reason" in caught.value.message_dict


def test_scheduling_needs_a_time(motion):
    motion = _walk(motion, (MotionStatus.SUBMITTED, ""), (MotionStatus.RULED_IN, ""))
    with pytest.raises(ValidationError) as caught:
        services.transition_motion(motion=motion, to_status=MotionStatus.SCHEDULED)
    assert "scheduled_for" in caught.value.message_dict


def test_a_composite_merges_prioritised_motions_of_one_subject(conference):
    subject = Subject.objects.create(conference=conference, name="Social security")
    clps = [OrganisationFactory() for _ in range(2)]
    sources = []
    for n, clp in enumerate(clps):
        m = services.create_motion(
            conference=conference, title=f"Motion {n}", text="Words.", subject=subject, submitted_by=[clp]
        )
        sources.append(_walk(m, ("submitted", ""), ("ruled_in", ""), ("prioritised", "")))
    composite = services.create_composite(
        motions=sources, title="Child poverty", text="Merged words.", number=3, mover=clps[0], seconder=clps[1]
    )
    assert str(composite) == "Composite 3: Child poverty"
    assert composite.status == MotionStatus.PRIORITISED
    assert set(composite.submitted_by.all()) == set(clps)
    assert set(Motion.objects.filter(composite=composite).values_list("status", flat=True)) == {"composited"}
    with pytest.raises(ValidationError) as caught:
        services.create_composite(motions=[composite], title="Again", text="x", number=3)
    assert "number" in caught.value.message_dict


def _scheduled(motion):
    motion = _walk(motion, ("submitted", ""), ("ruled_in", ""), ("prioritised", ""))
    return services.transition_motion(motion=motion, to_status="scheduled", scheduled_for=timezone.now())


def test_a_result_that_adds_up_carries_the_motion(motion):
    motion = _scheduled(motion)
    result = services.record_result(
        motion=motion,
        clp_for="90.00",
        clp_against="10.00",
        affiliates_for="40.00",
        affiliates_against="60.00",
        total_for="65.00",
        total_against="35.00",
    )
    motion.refresh_from_db()
    assert motion.status == MotionStatus.CARRIED
    assert result.carried


def test_a_result_whose_percentages_do_not_add_up_is_refused_field_by_field(motion):
    motion = _scheduled(motion)
    with pytest.raises(ValidationError) as caught:
        services.record_result(
            motion=motion,
            clp_for=90,
            clp_against=20,
            affiliates_for=40,
            affiliates_against=60,
            total_for="lots",
            total_against=35,
        )
    errors = caught.value.message_dict
    assert errors["clp_against"] == ["For and against must add up to 100%."]
    assert errors["total_for"] == ["Enter a percentage, e.g. 52.4."]
    with pytest.raises(ValidationError) as caught:
        services.record_result(
            motion=motion,
            clp_for=90,
            clp_against=10,
            affiliates_for=40,
            affiliates_against=60,
            total_for=50,
            total_against=50,
        )
    assert caught.value.message_dict["total_for"] == ["With sections weighted 50/50, the total for should be 65.00%."]
    motion.refresh_from_db()
    assert motion.status == MotionStatus.SCHEDULED


def test_a_stance_for_a_delegate_of_another_conference_or_an_unknown_level_is_refused(motion):
    elsewhere = DelegateFactory(conference=ConferenceFactory(slug="tuc27", name="TUC 2027", is_current=False))
    with pytest.raises(ValidationError) as caught:
        services.record_stance(delegate=elsewhere, motion=motion, level=Level.FOR, source="coordinator")
    assert "delegate" in caught.value.message_dict
    here = DelegateFactory(conference=motion.conference)
    with pytest.raises(ValidationError) as caught:
        services.record_stance(delegate=here, motion=motion, level="maybe", source="gossip")
    assert set(caught.value.message_dict) == {"level", "source"}
    assert not StanceChange.objects.exists()


def test_submissions_move_through_the_pipeline_with_history(conference):
    motion = services.create_motion(conference=conference, title="Ours", text="Words.", is_campaign_motion=True)
    clp = OrganisationFactory()
    submission = services.start_submission(motion=motion, organisation=clp)
    submission = services.move_submission(submission=submission, stage=Submission.Stage.CLP_MEETING)
    with pytest.raises(ValidationError) as caught:
        services.move_submission(submission=submission, stage=Submission.Stage.CONFIRMED)
    assert caught.value.message_dict["stage"] == ["From clp / gc meeting a submission cannot move to confirmed."]
    assert SubmissionStageChange.objects.filter(submission=submission).count() == 2
    with pytest.raises(ValidationError):
        services.start_submission(motion=motion, organisation=clp)


def _assignment(motion, delegates, **kwargs):
    return services.create_assignment(
        motion=motion, volunteer_name="Val", delegates=delegates, ask="Vote for the motion.", **kwargs
    )


def test_an_assignment_link_opens_only_while_live_and_untampered(motion):
    delegate = DelegateFactory(conference=motion.conference)
    assignment = _assignment(motion, [delegate], expires_at=timezone.now() + dt.timedelta(days=1))
    token = services.assignment_token(assignment)
    assert selectors.assignment_from_token(token) == assignment
    assert selectors.assignment_from_token(token[:-2] + "xx") is None
    forged = TimestampSigner(salt="lobbying.assignment").sign_object({"assignment": assignment.pk})
    assert selectors.assignment_from_token(forged + "x") is None
    services.revoke_assignment(assignment=assignment)
    assert selectors.assignment_from_token(token) is None


def test_an_expired_assignment_link_opens_nothing_and_records_nothing(motion, time_machine):
    delegate = DelegateFactory(conference=motion.conference)
    assignment = _assignment(motion, [delegate], expires_at=timezone.now() + dt.timedelta(hours=1))
    token = services.assignment_token(assignment)
    time_machine.move_to(timezone.now() + dt.timedelta(hours=2))
    assert selectors.assignment_from_token(token) is None
    with pytest.raises(ValidationError):
        services.record_conversation(assignment=assignment, delegate_id=delegate.pk, level=Level.FOR)
    assert not StanceChange.objects.exists()


def test_a_conversation_is_recorded_only_for_a_delegate_on_the_list(motion):
    mine, other = DelegateFactory(conference=motion.conference), DelegateFactory(conference=motion.conference)
    assignment = _assignment(motion, [mine])
    change = services.record_conversation(assignment=assignment, delegate_id=mine.pk, level=Level.LEANING_FOR)
    assert (change.source, change.recorded_by_name) == ("conversation", "Val")
    with pytest.raises(ValidationError) as caught:
        services.record_conversation(assignment=assignment, delegate_id=other.pk, level=Level.FOR)
    assert "delegate" in caught.value.message_dict


def test_stance_history_is_read_only_in_the_admin(admin_client, room, motion):
    change = StanceChange.objects.first()
    assert admin_client.get("/admin/lobbying/stancechange/").status_code == 200
    assert admin_client.get(f"/admin/lobbying/stancechange/{change.pk}/change/").status_code == 200
    assert admin_client.get("/admin/lobbying/stancechange/add/").status_code == 403
    assert admin_client.post(f"/admin/lobbying/stancechange/{change.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"/admin/lobbying/motion/{motion.pk}/change/").status_code == 200
