"""The only writers of lobbying state: one function per change, keyword-only, one transaction, a history row.

Bad input raises django's ValidationError keyed by field; pages show it on the field, the API returns a 400.
"""

import datetime as dt
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lobbying.models import (
    ASSIGNMENT_SALT,
    MOTION_TRANSITIONS,
    RESULT_FROM,
    SUBMISSION_TRANSITIONS,
    Level,
    LobbyingAssignment,
    Motion,
    MotionStatus,
    MotionStatusChange,
    Result,
    StanceChange,
    Submission,
    SubmissionStageChange,
)
from messaging.phones import normalise_mobile

MOTION_FIELDS = ("title", "text", "kind", "position", "subject", "is_campaign_motion", "cac_reason", "session")


# Motions ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def create_motion(*, conference, title, text, kind=Motion.Kind.CONTEMPORARY, position=Motion.Position.WATCH,
                  subject=None, submitted_by=(), is_campaign_motion=False, created_by=None) -> Motion:  # fmt: skip
    motion = Motion(
        conference=conference,
        title=" ".join(title.split()),
        text=text.strip(),
        kind=kind,
        position=position,
        subject=subject,
        is_campaign_motion=is_campaign_motion,
    )
    motion.full_clean()
    motion.save()
    if submitted_by:
        motion.submitted_by.set(submitted_by)
    MotionStatusChange.objects.create(motion=motion, from_status="", to_status=motion.status, changed_by=created_by)
    return motion


@transaction.atomic
def update_motion(*, motion, changed_by=None, submitted_by=None, **fields) -> Motion:
    """Edit a motion's words and details (not its status: that is `transition_motion`)."""
    unknown = set(fields) - set(MOTION_FIELDS)
    if unknown:
        raise TypeError(f"update_motion cannot change {sorted(unknown)}")
    motion = Motion.objects.select_for_update().get(pk=motion.pk)
    for name, value in fields.items():
        setattr(motion, name, value)
    if "title" in fields:
        motion.title = " ".join(motion.title.split())
    motion.full_clean()
    motion.save()
    if submitted_by is not None:
        motion.submitted_by.set(submitted_by)
    return motion


@transaction.atomic
def transition_motion(*, motion, to_status, reason="", changed_by=None, scheduled_for=None, session=None) -> Motion:
    """Move a motion along its life cycle; an impossible move is refused with the reason, and nothing is written."""
    motion = Motion.objects.select_for_update().get(pk=motion.pk)
    allowed = MOTION_TRANSITIONS.get(motion.status, {})
    if to_status not in MotionStatus.values:
        raise ValidationError({"to_status": f"“{to_status}” is not a motion status."})
    if to_status in (MotionStatus.CARRIED, MotionStatus.LOST):
        raise ValidationError({"to_status": "Enter the result of the vote: carried or lost follows from it."})
    if to_status == MotionStatus.COMPOSITED:
        raise ValidationError({"to_status": "Create the composite: its source motions are composited with it."})
    if to_status not in allowed:
        raise ValidationError(
            {
                "to_status": f"A motion that is {motion.get_status_display().lower()} cannot become "
                f"{MotionStatus(to_status).label.lower()}."
            }
        )
    reason = (reason or "").strip()
    if allowed[to_status] and not reason:
        raise ValidationError({"reason": f"Give the reason it is {MotionStatus(to_status).label.lower()}."})
    if to_status == MotionStatus.SCHEDULED:
        scheduled_for = scheduled_for or motion.scheduled_for
        if scheduled_for is None:
            raise ValidationError({"scheduled_for": "Give the day and time of the debate."})
        motion.scheduled_for = scheduled_for
        if session is not None:
            motion.session = session
    if to_status in (MotionStatus.RULED_OUT, MotionStatus.RULED_IN) and reason:
        motion.cac_reason = reason
    from_status = motion.status
    motion.status = to_status
    motion.save()
    MotionStatusChange.objects.create(
        motion=motion, from_status=from_status, to_status=to_status, reason=reason, changed_by=changed_by
    )
    return motion


@transaction.atomic
def create_composite(*, motions, title, text, number, mover=None, seconder=None, position=None,
                     created_by=None) -> Motion:  # fmt: skip
    """Merge prioritised motions of one subject into a numbered composite; the sources become composited."""
    motions = list(Motion.objects.select_for_update().filter(pk__in=[m.pk for m in motions]).order_by("pk"))
    if len(motions) < 1:
        raise ValidationError({"motions": "Choose the motions merged into this composite."})
    conference = motions[0].conference
    subjects = {m.subject_id for m in motions}
    errors = {}
    if any(m.conference_id != conference.pk for m in motions):
        errors["motions"] = "The motions belong to different conferences."
    elif len(subjects) != 1 or None in subjects:
        errors["motions"] = "A composite merges motions of one subject."
    elif any(m.status != MotionStatus.PRIORITISED for m in motions):
        errors["motions"] = "Only prioritised motions can be composited."
    if Motion.objects.filter(conference=conference, composite_number=number).exists():
        errors["number"] = f"Composite {number} already exists."
    if errors:
        raise ValidationError(errors)
    composite = Motion(
        conference=conference,
        subject=motions[0].subject,
        title=" ".join(title.split()),
        text=text.strip(),
        kind=Motion.Kind.COMPOSITE,
        position=position or motions[0].position,
        is_campaign_motion=any(m.is_campaign_motion for m in motions),
        status=MotionStatus.PRIORITISED,
        composite_number=number,
        mover=mover,
        seconder=seconder,
    )
    composite.full_clean()
    composite.save()
    composite.submitted_by.set({org for m in motions for org in m.submitted_by.all()})
    MotionStatusChange.objects.create(
        motion=composite, from_status="", to_status=composite.status, changed_by=created_by, reason="Composited"
    )
    for motion in motions:
        MotionStatusChange.objects.create(
            motion=motion,
            from_status=motion.status,
            to_status=MotionStatus.COMPOSITED,
            changed_by=created_by,
            reason=f"Into composite {number}",
        )
    Motion.objects.filter(pk__in=[m.pk for m in motions]).update(
        status=MotionStatus.COMPOSITED, composite=composite, updated_at=timezone.now()
    )
    return composite


RESULT_FIELDS = ("clp_for", "clp_against", "affiliates_for", "affiliates_against", "total_for", "total_against")


def _percent(value, field, errors):
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except Exception:
        errors[field] = "Enter a percentage, e.g. 52.4."
        return None
    if not Decimal(0) <= number <= Decimal(100):
        errors[field] = "A percentage is between 0 and 100."
        return None
    return number


@transaction.atomic
def record_result(*, motion, clp_for, clp_against, affiliates_for, affiliates_against, total_for, total_against,
                  method=Result.Method.CARD, card_vote_number=None, recorded_by=None) -> Result:  # fmt: skip
    """Enter the vote as announced; it must add up (each pair to 100, the total to the sections by weight)."""
    motion = Motion.objects.select_for_update().select_related("conference").get(pk=motion.pk)
    if motion.status not in RESULT_FROM:
        raise ValidationError(
            {"__all__": f"A motion that is {motion.get_status_display().lower()} cannot have a vote result."}
        )
    errors = {}
    given = dict(
        zip(
            RESULT_FIELDS,
            (clp_for, clp_against, affiliates_for, affiliates_against, total_for, total_against),
            strict=True,
        )
    )
    values = {field: _percent(value, field, errors) for field, value in given.items()}
    if method not in Result.Method.values:
        errors["method"] = "Choose how the vote was taken."
    tolerance = Decimal("0.1")  # published figures are rounded to two places
    for prefix in ("clp", "affiliates", "total"):
        pair = values[f"{prefix}_for"], values[f"{prefix}_against"]
        if None not in pair and abs(sum(pair) - 100) > tolerance:
            errors[f"{prefix}_against"] = "For and against must add up to 100%."
    sections = values["clp_for"], values["affiliates_for"], values["total_for"]
    if None not in sections and "total_against" not in errors:
        conference = motion.conference
        expected = (
            sections[0] * conference.clp_section_weight + sections[1] * conference.affiliate_section_weight
        ) / 100
        if abs(expected - sections[2]) > Decimal("0.5"):
            errors["total_for"] = (
                f"With sections weighted {conference.clp_section_weight}/{conference.affiliate_section_weight}, "
                f"the total for should be {expected:.2f}%."
            )
    if errors:
        raise ValidationError(errors)
    result = Result.objects.create(
        motion=motion, method=method, card_vote_number=card_vote_number, recorded_by=recorded_by, **values
    )
    outcome = MotionStatus.CARRIED if result.carried else MotionStatus.LOST
    MotionStatusChange.objects.create(
        motion=motion, from_status=motion.status, to_status=outcome, changed_by=recorded_by, reason=str(result)
    )
    motion.status = outcome
    motion.save(update_fields=["status", "updated_at"])
    return result


# Submissions -----------------------------------------------------------------------------------------------------


@transaction.atomic
def start_submission(*, motion, organisation, local_contact="", notes="", meeting_on=None, changed_by=None,
                     at=None) -> Submission:  # fmt: skip
    if not motion.is_campaign_motion:
        raise ValidationError({"motion": "Submissions are tracked for the campaign's own motions."})
    if Submission.objects.filter(motion=motion, organisation=organisation).exists():
        raise ValidationError({"organisation": "This organisation is already in the pipeline for this motion."})
    at = at or timezone.now()
    submission = Submission.objects.create(
        motion=motion,
        organisation=organisation,
        local_contact=local_contact,
        notes=notes,
        meeting_on=meeting_on,
        stage_changed_at=at,
    )
    SubmissionStageChange.objects.create(
        submission=submission, from_stage="", to_stage=submission.stage, changed_by=changed_by, at=at
    )
    return submission


@transaction.atomic
def move_submission(*, submission, stage, note="", meeting_on=None, changed_by=None, at=None) -> Submission:
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if stage not in Submission.Stage.values:
        raise ValidationError({"stage": f"“{stage}” is not a pipeline stage."})
    if stage not in SUBMISSION_TRANSITIONS[submission.stage]:
        raise ValidationError(
            {
                "stage": f"From {submission.get_stage_display().lower()} a submission cannot move to "
                f"{Submission.Stage(stage).label.lower()}."
            }
        )
    at = at or timezone.now()
    SubmissionStageChange.objects.create(
        submission=submission, from_stage=submission.stage, to_stage=stage, note=note, changed_by=changed_by, at=at
    )
    submission.stage = stage
    submission.stage_changed_at = at
    if meeting_on is not None:
        submission.meeting_on = meeting_on
    submission.save()
    return submission


# Stances ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def record_stance(*, delegate, motion, level, source, recorded_by=None, recorded_by_name="",
                  confidence=StanceChange.Confidence.MEDIUM, note="", at=None) -> StanceChange:  # fmt: skip
    """Record a delegate's stance on a motion: the only writer of StanceChange (rows are never edited)."""
    errors = {}
    if level not in Level.values:
        errors["level"] = f"“{level}” is not a stance: choose one of {', '.join(Level.values)}."
    if source not in StanceChange.Source.values:
        errors["source"] = f"“{source}” is not a source: choose one of {', '.join(StanceChange.Source.values)}."
    if confidence not in StanceChange.Confidence.values:
        errors["confidence"] = "Choose low, medium or high."
    if delegate.conference_id != motion.conference_id:
        errors["delegate"] = "This delegate is at another conference than the motion."
    if at is not None and at > timezone.now() + dt.timedelta(minutes=5):
        errors["at"] = "A stance cannot be recorded in the future."
    if errors:
        raise ValidationError(errors)
    return StanceChange.objects.create(
        delegate=delegate,
        motion=motion,
        level=level,
        source=source,
        recorded_by=recorded_by,
        recorded_by_name=recorded_by_name[:200],
        confidence=confidence,
        note=note.strip(),
        at=at or timezone.now(),
    )


# Assignments -----------------------------------------------------------------------------------------------------


def assignment_token(assignment) -> str:
    """The private link's token: the assignment's id, signed. Expiry and revocation live on the row."""
    return signing.dumps({"assignment": assignment.pk}, salt=ASSIGNMENT_SALT)


@transaction.atomic
def create_assignment(*, motion, volunteer_name, delegates, ask, volunteer_mobile="", volunteer_ref=None,
                      expires_at=None, created_by=None) -> LobbyingAssignment:  # fmt: skip
    conference = motion.conference
    errors = {}
    volunteer_name = " ".join((volunteer_name or "").split())
    if not volunteer_name:
        errors["volunteer_name"] = "Enter the volunteer's name."
    if volunteer_mobile:
        try:
            volunteer_mobile = normalise_mobile(volunteer_mobile)
        except ValidationError as exc:
            errors["volunteer_mobile"] = exc.messages
    delegates = list(delegates)
    if not delegates:
        errors["delegates"] = "Choose at least one delegate."
    elif any(d.conference_id != conference.pk for d in delegates):
        errors["delegates"] = "Every delegate must be at this motion's conference."
    if not (ask or "").strip():
        errors["ask"] = "Say what to ask the delegates."
    if expires_at is None:
        # After conference: the day after it ends, at midnight in the conference's time zone.
        end = dt.datetime.combine(conference.ends_on + dt.timedelta(days=1), dt.time())
        expires_at = timezone.make_aware(end)
    if expires_at <= timezone.now():
        errors["expires_at"] = "The link would already have expired."
    if errors:
        raise ValidationError(errors)
    assignment = LobbyingAssignment.objects.create(
        conference=conference,
        motion=motion,
        volunteer_name=volunteer_name,
        volunteer_mobile=volunteer_mobile,
        volunteer_ref=volunteer_ref,
        ask=ask.strip(),
        expires_at=expires_at,
        created_by=created_by,
    )
    assignment.delegates.set(delegates)
    return assignment


@transaction.atomic
def revoke_assignment(*, assignment, revoked_by=None) -> LobbyingAssignment:
    LobbyingAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def record_conversation(*, assignment, delegate_id, level, note="") -> StanceChange:
    """A volunteer's conversation through their link: a stance change with source "conversation"."""
    assignment = LobbyingAssignment.objects.select_for_update().get(pk=assignment.pk)
    if not assignment.is_live():
        raise ValidationError({"__all__": "This link has expired or been withdrawn."})
    delegate = assignment.delegates.filter(pk=delegate_id).first()
    if delegate is None:
        raise ValidationError({"delegate": "This delegate is not on your list."})
    return record_stance(
        delegate=delegate,
        motion=assignment.motion,
        level=level,
        source=StanceChange.Source.CONVERSATION,
        recorded_by_name=assignment.volunteer_name,
        note=note,
    )


@transaction.atomic
def import_stances(*, changes, recorded_by=None) -> int:
    """Record many stance observations at once (a spreadsheet, the demo): each checked as `record_stance` does.

    ``changes`` are dicts with delegate, motion, level and at (optionally source, confidence, note). All or
    nothing: one bad row refuses the lot, naming the row.
    """
    rows = []
    for number, change in enumerate(changes, start=1):
        delegate, motion, level = change["delegate"], change["motion"], change["level"]
        source = change.get("source", StanceChange.Source.IMPORT)
        if level not in Level.values or source not in StanceChange.Source.values:
            raise ValidationError({"changes": f"Row {number}: unknown stance “{level}” or source “{source}”."})
        if delegate.conference_id != motion.conference_id:
            raise ValidationError({"changes": f"Row {number}: the delegate is at another conference."})
        rows.append(
            StanceChange(
                delegate=delegate,
                motion=motion,
                level=level,
                source=source,
                recorded_by=recorded_by,
                recorded_by_name=change.get("recorded_by_name", ""),
                confidence=change.get("confidence", StanceChange.Confidence.MEDIUM),
                note=change.get("note", ""),
                at=change.get("at") or timezone.now(),
            )
        )
    StanceChange.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# Erasure (data protection) -------------------------------------------------------------------------------------------


@transaction.atomic
def erase_lobbying_records(*, delegate_ids=(), volunteer_refs=(), volunteer_mobiles=(), conference_ids=(),
                           now=None) -> dict[str, int]:  # fmt: skip
    """Anonymise what lobbying holds about erased people; levels, motions, times and `recorded_by` stay.

    Delegates (``delegate_ids``): the free text of their stance changes (conversation notes included) and the
    personalised bodies of briefings they were sent are blanked; the rows stay, so every whip count and its
    ``as_of`` history is unchanged. Volunteers (``volunteer_refs``: the volunteers app's ids, or
    ``volunteer_mobiles``) and every assignment of ``conference_ids`` (retention): the assignment's name and
    mobile are blanked, its link revoked, and their name on the conversations they recorded blanked (with
    ``conference_ids``, every volunteer's name on that conference's stances). Blank text is not counted
    again, so a second run returns zeros. Returns counts only.
    """
    from django.db.models import Q

    from lobbying.models import BriefingRecipient

    now = now or timezone.now()
    delegate_ids = list(delegate_ids)
    counts = {
        "stance_notes": StanceChange.objects.filter(delegate_id__in=delegate_ids).exclude(note="").update(note=""),
        "briefing_texts": BriefingRecipient.objects.filter(delegate_id__in=delegate_ids)
        .exclude(body="")
        .update(body=""),
        "assignments": 0,
        # Retention: volunteers' names as recorders of the conference's stances go too (staff users stay).
        "recorder_names": StanceChange.objects.filter(motion__conference_id__in=list(conference_ids))
        .exclude(recorded_by_name="")
        .update(recorded_by_name=""),
    }
    whose = Q(volunteer_ref__in=list(volunteer_refs)) | Q(volunteer_mobile__in=[m for m in volunteer_mobiles if m])
    whose |= Q(conference_id__in=list(conference_ids))
    assignments = list(
        LobbyingAssignment.objects.select_for_update()
        .filter(whose)
        .exclude(volunteer_name="", volunteer_mobile="")
        .values_list("pk", "volunteer_name")
    )
    for pk, name in assignments:
        if name:
            StanceChange.objects.filter(
                source=StanceChange.Source.CONVERSATION,
                recorded_by_name=name,
                delegate__lobbying_assignments=pk,
                motion__assignments=pk,
            ).update(recorded_by_name="")
    if assignments:
        pks = [pk for pk, _name in assignments]
        LobbyingAssignment.objects.filter(pk__in=pks, revoked_at__isnull=True).update(revoked_at=now)
        counts["assignments"] = LobbyingAssignment.objects.filter(pk__in=pks).update(
            volunteer_name="", volunteer_mobile=""
        )
    return counts
