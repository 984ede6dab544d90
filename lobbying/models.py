"""Motions and their life cycle, the campaign's submissions pipeline, stances as history, lobbying assignments.

Every change of state goes through `lobbying.services`; reads live in `lobbying.selectors`. Evidence
(StanceChange, MotionStatusChange, SubmissionStageChange) is append-only.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from delegates.models import Conference, Delegate, Organisation


def word_count(text: str) -> int:
    """Words as a person counts them (and as the form's live counter does): runs of non-space."""
    return len((text or "").split())


class Subject(models.Model):
    """A priorities-ballot topic; the CAC groups the motions it rules in under subjects."""

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="subjects")
    name = models.CharField(max_length=200)
    clp_priority_votes = models.PositiveIntegerField(null=True, blank=True)
    affiliate_priority_votes = models.PositiveIntegerField(null=True, blank=True)
    prioritised_by_clps = models.BooleanField(null=True, blank=True, help_text="Unknown until the ballot is counted.")
    prioritised_by_affiliates = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["conference", "name"], name="subject_name_unique")]

    def __str__(self):
        return self.name


class MotionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RULED_IN = "ruled_in", "Ruled in order"
    RULED_OUT = "ruled_out", "Ruled out of order"
    PRIORITISED = "prioritised", "Prioritised"
    NOT_PRIORITISED = "not_prioritised", "Not prioritised"
    COMPOSITED = "composited", "Composited"
    SCHEDULED = "scheduled", "Scheduled"
    DEBATED = "debated", "Debated"
    CARRIED = "carried", "Carried"
    LOST = "lost", "Lost"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REMITTED = "remitted", "Remitted"
    REFERRED_BACK = "referred_back", "Referred back"


S = MotionStatus
# The life cycle as data: from each status, the statuses it may move to, and whether a reason is required.
# An appeal or a successful reference back moves a ruled-out motion back in (with the reason).
# Emergency motions skip the priorities ballot (ruled in → scheduled). Carried and lost come with a Result
# (services.record_result), never as a bare transition.
MOTION_TRANSITIONS: dict[str, dict[str, bool]] = {
    S.DRAFT: {S.SUBMITTED: False, S.WITHDRAWN: False},
    S.SUBMITTED: {S.RULED_IN: False, S.RULED_OUT: True, S.WITHDRAWN: True},
    S.RULED_IN: {S.PRIORITISED: False, S.NOT_PRIORITISED: False, S.SCHEDULED: False, S.WITHDRAWN: True},
    S.RULED_OUT: {S.RULED_IN: True},
    S.PRIORITISED: {S.COMPOSITED: False, S.SCHEDULED: False, S.WITHDRAWN: True},
    S.SCHEDULED: {S.DEBATED: False, S.WITHDRAWN: True, S.REMITTED: True, S.REFERRED_BACK: True},
    S.DEBATED: {S.WITHDRAWN: True, S.REMITTED: True, S.REFERRED_BACK: True},
    S.NOT_PRIORITISED: {},
    S.COMPOSITED: {},
    S.CARRIED: {},
    S.LOST: {},
    S.WITHDRAWN: {},
    S.REMITTED: {},
    S.REFERRED_BACK: {},
}
RESULT_FROM = (S.SCHEDULED, S.DEBATED)
# Motions that will never be voted on leave the dashboard (a composited motion lives on in its composite).
UNTRACKED_STATUSES = (S.RULED_OUT, S.NOT_PRIORITISED, S.COMPOSITED, S.WITHDRAWN)
CLOSED_STATUSES = (S.NOT_PRIORITISED, S.COMPOSITED, S.CARRIED, S.LOST, S.WITHDRAWN, S.REMITTED, S.REFERRED_BACK)


class MotionQuerySet(models.QuerySet):
    def for_conference(self, conference):
        return self.filter(conference=conference)

    def tracked(self):
        """Motions the campaign takes a side on and that can still be voted on: the dashboard's whip counts."""
        return self.exclude(position=Motion.Position.WATCH).exclude(status__in=UNTRACKED_STATUSES)


class Motion(models.Model):
    class Kind(models.TextChoices):
        CONTEMPORARY = "contemporary", "Contemporary"
        EMERGENCY = "emergency", "Emergency"
        RULE_CHANGE = "rule_change", "Rule change"
        COMPOSITE = "composite", "Composite"

    class Position(models.TextChoices):
        SUPPORT = "support", "Support"
        OPPOSE = "oppose", "Oppose"
        WATCH = "watch", "Watch"

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="motions")
    subject = models.ForeignKey(Subject, on_delete=models.SET_NULL, null=True, blank=True, related_name="motions")
    title = models.CharField(max_length=200)
    text = models.TextField()
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CONTEMPORARY)
    position = models.CharField("campaign's position", max_length=10, choices=Position.choices, default=Position.WATCH)
    is_campaign_motion = models.BooleanField(
        default=False, help_text="Our own motion, which we ask CLPs to submit (the submissions pipeline)."
    )
    status = models.CharField(max_length=20, choices=MotionStatus.choices, default=MotionStatus.DRAFT)
    submitted_by = models.ManyToManyField(Organisation, blank=True, related_name="motions")
    cac_reason = models.TextField("CAC ruling reason", blank=True)
    # Compositing: source motions point at the composite they were merged into.
    composite = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_motions"
    )
    composite_number = models.PositiveSmallIntegerField(null=True, blank=True)
    mover = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    seconder = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Agenda slot
    scheduled_for = models.DateTimeField(null=True, blank=True)
    session = models.CharField(max_length=100, blank=True, help_text="e.g. Tuesday morning: Economy")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MotionQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_for", "title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(composite_number__isnull=True) | Q(kind="composite"), name="only_composites_numbered"
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.COMPOSITE and self.composite_number:
            return f"Composite {self.composite_number}: {self.title}"
        return self.title

    def get_absolute_url(self):
        return reverse("lobbying:motion-detail", args=[self.pk])

    @property
    def title_words(self) -> int:
        return word_count(self.title)

    @property
    def text_words(self) -> int:
        return word_count(self.text)

    def clean(self):
        errors = {}
        conference = self.conference if self.conference_id else None
        if conference is not None:
            if self.title_words > conference.motion_title_max_words:
                errors["title"] = f"{self.title_words} of {conference.motion_title_max_words} words: shorten the title."
            if self.text_words > conference.motion_text_max_words:
                errors["text"] = f"{self.text_words} of {conference.motion_text_max_words} words: shorten the text."
            if self.subject_id and self.subject.conference_id != conference.pk:
                errors["subject"] = "That subject belongs to another conference."
        if not self.text.strip():
            errors["text"] = "Enter the motion's text."
        if errors:
            raise ValidationError(errors)

    def allowed_transitions(self) -> list[str]:
        return list(MOTION_TRANSITIONS.get(self.status, {}))

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class MotionStatusChange(models.Model):
    """History of a motion's life cycle: one row per transition (append-only)."""

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=MotionStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=MotionStatus.choices)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class Result(models.Model):
    """The vote as published: each section's percentages and the weighted total (store them all, as announced)."""

    class Method(models.TextChoices):
        HANDS = "hands", "Show of hands"
        SECTIONAL = "sectional", "Show of hands by section"
        CARD = "card", "Card vote"

    motion = models.OneToOneField(Motion, on_delete=models.CASCADE, related_name="result")
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.CARD)
    card_vote_number = models.PositiveSmallIntegerField(null=True, blank=True)
    clp_for = models.DecimalField("CLPs for %", max_digits=5, decimal_places=2)
    clp_against = models.DecimalField("CLPs against %", max_digits=5, decimal_places=2)
    affiliates_for = models.DecimalField("affiliates for %", max_digits=5, decimal_places=2)
    affiliates_against = models.DecimalField("affiliates against %", max_digits=5, decimal_places=2)
    total_for = models.DecimalField("total for %", max_digits=5, decimal_places=2)
    total_against = models.DecimalField("total against %", max_digits=5, decimal_places=2)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.total_for}% for, {self.total_against}% against"

    @property
    def carried(self) -> bool:
        return self.total_for > self.total_against


class Submission(models.Model):
    """The campaign's progress with one CLP or affiliate on getting a motion submitted."""

    class Stage(models.TextChoices):
        CONTACTED = "contacted", "Contacted"
        BRANCH_MEETING = "branch_meeting", "Branch meeting"
        CLP_MEETING = "clp_meeting", "CLP / GC meeting"
        PASSED = "passed", "Passed"
        FELL = "fell", "Fell"
        SUBMITTED = "submitted", "Submitted"
        CONFIRMED = "confirmed", "Confirmed"

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="submissions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="submissions")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.CONTACTED)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    meeting_on = models.DateField(null=True, blank=True, help_text="Date of the branch or CLP meeting.")
    local_contact = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage_changed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["motion", "organisation"], name="one_submission_per_org")]
        # The pipeline page: one motion's submissions counted by stage, the stuck ones oldest first.
        indexes = [models.Index(fields=["motion", "stage", "stage_changed_at"], name="submission_pipeline")]

    def __str__(self):
        return f"{self.organisation} · {self.get_stage_display()}"


St = Submission.Stage
SUBMISSION_TRANSITIONS: dict[str, tuple[str, ...]] = {
    St.CONTACTED: (St.BRANCH_MEETING, St.CLP_MEETING, St.FELL),
    St.BRANCH_MEETING: (St.CLP_MEETING, St.FELL),
    St.CLP_MEETING: (St.PASSED, St.FELL),
    St.PASSED: (St.SUBMITTED, St.FELL),
    St.SUBMITTED: (St.CONFIRMED,),
    St.FELL: (St.CONTACTED,),  # try again another month
    St.CONFIRMED: (),
}
# Stages where a submission can be "stuck" (waiting on someone).
OPEN_STAGES = (St.CONTACTED, St.BRANCH_MEETING, St.CLP_MEETING, St.PASSED)


class SubmissionStageChange(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Submission.Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Submission.Stage.choices)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.from_stage or 'new'} → {self.to_stage}"


class Level(models.TextChoices):
    """A delegate's stance on a motion. "Unknown" is not stored: it is the absence of any row."""

    FOR = "for", "For"
    LEANING_FOR = "leaning_for", "Leaning for"
    UNDECIDED = "undecided", "Undecided"
    LEANING_AGAINST = "leaning_against", "Leaning against"
    AGAINST = "against", "Against"


UNKNOWN = "unknown"
# Every level a whip count shows, in display order, unknown last.
ALL_LEVELS = [*Level.values, UNKNOWN]
LEVEL_LABELS = {**dict(Level.choices), UNKNOWN: "Unknown"}


class StanceChange(models.Model):
    """One observation of a delegate's stance on a motion. Append-only: the current stance is the latest row."""

    class Source(models.TextChoices):
        CONVERSATION = "conversation", "Conversation"
        OWN_TEXT = "own_text", "The delegate's own text"
        COORDINATOR = "coordinator", "Coordinator"
        IMPORT = "import", "Import"

    class Confidence(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    delegate = models.ForeignKey(Delegate, on_delete=models.CASCADE, related_name="stance_changes")
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="stance_changes")
    level = models.CharField(max_length=20, choices=Level.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_name = models.CharField(
        max_length=200, blank=True, help_text="Who recorded it when not a user (a volunteer through their link)."
    )
    confidence = models.CharField(max_length=10, choices=Confidence.choices, default=Confidence.MEDIUM)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # The latest row per (motion, delegate) at or before a moment: DISTINCT ON / NOT EXISTS walk this.
            models.Index(fields=["motion", "delegate", "at", "id"], name="stance_latest"),
            # "Changed since yesterday" and the API's recent changes.
            models.Index(fields=["motion", "at"], name="stance_motion_at"),
        ]

    def __str__(self):
        return f"{self.get_level_display()} ({self.get_source_display()})"


# Signs the private links of lobbying assignments (a different salt from anything else signed).
ASSIGNMENT_SALT = "lobbying.assignment"


class AssignmentQuerySet(models.QuerySet):
    def live(self, *, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class LobbyingAssignment(models.Model):
    """Delegates a volunteer is asked to talk to, reached through a signed, expiring, revocable private link.

    The volunteer is a loose reference (name and mobile, optionally the volunteers app's id): `lobbying`
    does not import `volunteers`.
    """

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="lobbying_assignments")
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="assignments")
    volunteer_name = models.CharField(max_length=200)
    volunteer_mobile = models.CharField(max_length=16, blank=True, help_text="E.164")
    volunteer_ref = models.PositiveIntegerField(null=True, blank=True, help_text="The volunteers app's id, if any.")
    ask = models.TextField(help_text="What to ask the delegates, in a sentence or two.")
    delegates = models.ManyToManyField(Delegate, related_name="lobbying_assignments")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.volunteer_name}: {self.motion}"

    def get_absolute_url(self):
        return reverse("lobbying:assignment-detail", args=[self.pk])

    def is_live(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


# Briefings ----------------------------------------------------------------------------------------------------------


class SavedList(models.Model):
    """A named list of delegates a coordinator put together (e.g. "Fringe meeting sign-ups"), usable as a
    briefing's audience. Written only by `lobbying.briefings`."""

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="saved_lists")
    name = models.CharField(max_length=100)
    delegates = models.ManyToManyField(Delegate, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["conference", "name"], name="saved_list_name_once")]

    def __str__(self):
        return self.name


class CoordinatorProfile(models.Model):
    """A coordinator's own mobile, for test sends of a briefing (never a delegate's number)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinator_profile")
    mobile = models.CharField(max_length=16, blank=True, help_text="E.164; test briefings are texted here.")

    def __str__(self):
        return f"Profile of user {self.user_id}"


class BriefingQuerySet(models.QuerySet):
    def with_due_at(self):
        """Annotate ``due_at``: the fixed time, or the timing motion's agenda slot minus the lead. Computed in the
        query, never stored, so moving the motion's slot moves the send."""
        relative = models.ExpressionWrapper(
            models.F("send_before_motion__scheduled_for") - models.F("send_lead"), output_field=models.DateTimeField()
        )
        return self.annotate(
            due_at=models.Case(
                models.When(send_before_motion__isnull=False, then=relative),
                default=models.F("send_at"),
                output_field=models.DateTimeField(),
            )
        )


class Briefing(models.Model):
    """A campaign text to many delegates, its audience stored as filters (data), frozen into recipients at send.

    Written only by `lobbying.briefings`; `BriefingStatusChange` is its history.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        SENT = "sent", "Sent"

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="briefings")
    motion = models.ForeignKey(Motion, on_delete=models.PROTECT, null=True, blank=True, related_name="briefings")
    body = models.TextField(help_text="Merge fields: {first_name} {organisation} {motion}.")
    # Audience filters; an empty list means "any".
    stance_levels = models.JSONField(default=list, blank=True, help_text="Stance levels on the motion (or unknown).")
    sections = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="+")
    saved_list = models.ForeignKey(SavedList, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    # When a scheduled briefing goes: at send_at, or send_lead before send_before_motion's agenda slot.
    send_at = models.DateTimeField(null=True, blank=True)
    send_before_motion = models.ForeignKey(
        Motion, on_delete=models.SET_NULL, null=True, blank=True, related_name="timed_briefings"
    )
    send_lead = models.DurationField(null=True, blank=True, help_text="How long before the motion's agenda slot.")
    useless_after = models.DateTimeField(null=True, blank=True, help_text="Never send after this (the vote is over).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BriefingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The beat task's "scheduled and due" and the list's filter by status.
            models.Index(fields=["status", "send_at"], name="briefing_status_send_at"),
        ]

    def __str__(self):
        return f"Briefing {self.pk} ({self.get_status_display()})"

    @property
    def due_at(self):
        """When a scheduled briefing goes out (None when its motion has no slot); see BriefingQuerySet."""
        if "due_at" in self.__dict__:
            return self.__dict__["due_at"]
        if self.send_before_motion_id:
            slot = self.send_before_motion.scheduled_for
            return slot - self.send_lead if slot is not None and self.send_lead is not None else None
        return self.send_at

    @due_at.setter
    def due_at(self, value):  # the annotation
        self.__dict__["due_at"] = value


class BriefingStatusChange(models.Model):
    """Append-only history of a briefing's status."""

    briefing = models.ForeignKey(Briefing, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"


class BriefingRecipient(models.Model):
    """The frozen audience: who was picked when the briefing was sent, and exactly what they were sent."""

    briefing = models.ForeignKey(Briefing, on_delete=models.CASCADE, related_name="recipients")
    delegate = models.ForeignKey(Delegate, on_delete=models.PROTECT, related_name="briefings_received")
    body = models.TextField(help_text="The body with merge fields filled in (before the sender name and STOP line).")
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["briefing", "delegate"], name="briefing_recipient_once"),
        ]

    def __str__(self):
        return self.idempotency_key


# Replies to briefings -----------------------------------------------------------------------------------------------


class ProposedStanceQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=ProposedStance.Status.PENDING)

    def waiting(self, *, conference):
        """Pending proposals a coordinator can still decide: not about a delegate whose data was erased."""
        return self.pending().filter(motion__conference=conference, delegate__erased_at__isnull=True)


class ProposedStance(models.Model):
    """A delegate's reply to a briefing ("FOR", "not sure") read as a stance, waiting for a coordinator.

    Written only by `lobbying.replies`: created from the reply (one per inbound text), then accepted (which records
    a StanceChange with source "the delegate's own text") or rejected, once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    delegate = models.ForeignKey(Delegate, on_delete=models.CASCADE, related_name="proposed_stances")
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="proposed_stances")
    briefing = models.ForeignKey(
        Briefing, on_delete=models.SET_NULL, null=True, blank=True, related_name="proposed_stances"
    )
    level = models.CharField("proposed stance", max_length=20, choices=Level.choices)
    # One proposal per reply: Twilio's retries and a re-run handler find this row instead of making another.
    inbound = models.OneToOneField("messaging.InboundMessage", on_delete=models.CASCADE, related_name="proposed_stance")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    stance_change = models.OneToOneField(
        StanceChange,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposal",
        help_text="The stance recorded when it was accepted.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProposedStanceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The proposals page and the dashboard count: pending ones, newest first (optionally one motion's).
            models.Index(fields=["status", "-created_at"], name="proposal_status_recent"),
            models.Index(fields=["motion", "status", "-created_at"], name="proposal_motion_status_recent"),
        ]

    def __str__(self):
        return f"Proposed {self.get_level_display().lower()} ({self.get_status_display().lower()})"
