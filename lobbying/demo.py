"""Demo lobbying data on top of the demo conference: motions through their life cycle, the campaign's motion
taken to ~40 CLPs, a composite, a result, and stance histories over the last few days so the whip count moves.

Called by `manage.py seed_demo` as `seed(conference=..., scale=..., seed=...)`. Running it again changes nothing.
Stances are dated relative to now (the last six days), so "changed since yesterday" means something on any day.
"""

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.utils import timezone

from delegates.models import Delegate, Organisation
from lobbying import services
from lobbying.models import Level, Motion, MotionStatus, StanceChange, Subject, Submission

CAMPAIGN_TITLE = "Scrap the two-child benefit cap"
CAMPAIGN_TEXT = (
    "Conference notes that the two-child limit on Universal Credit and Child Tax Credit, introduced in 2017, "
    "now affects over 1.6 million children, and that the Child Poverty Action Group estimates that abolishing it "
    "would lift 350,000 children out of poverty at a cost of £2.5 billion a year. Conference believes no child "
    "should be punished for the circumstances of their birth. Conference calls on the Labour government to "
    "scrap the two-child limit and the benefit cap in the next budget, and to publish a child poverty strategy "
    "with binding targets."
)

# (subject, title, kind, position, status, campaign's guess at how many delegates are for it)
MOTIONS = [
    ("Social security", "Abolish the benefit cap for families", "contemporary", "support", "prioritised", 0.6),
    ("Social security", "Universal Credit: end the five-week wait", "contemporary", "support", "prioritised", 0.6),
    ("Migration and asylum", "Border Security Command", "contemporary", "oppose", "scheduled", 0.5),
    ("Migration and asylum", "Safe and legal routes for refugees", "contemporary", "support", "not_prioritised", 0.5),
    ("Housing", "Build 150,000 council homes a year", "contemporary", "support", "scheduled", 0.7),
    ("NHS and social care", "A fair pay agreement for social care", "contemporary", "support", "scheduled", 0.65),
    ("Public ownership", "Bring water back into public ownership", "contemporary", "support", "carried", 0.75),
    ("Social security", "Reverse the cuts to Personal Independence Payment", "emergency", "support", "scheduled", 0.55),
    ("Climate and energy", "Net zero by 2030", "contemporary", "support", "ruled_out", 0.6),
    ("Party democracy", "Rule change: open selections for MPs", "rule_change", "watch", "ruled_in", 0.5),
    ("Defence", "Defence spending at three per cent", "contemporary", "oppose", "not_prioritised", 0.45),
]
STAGE_WEIGHTS = [
    (Submission.Stage.CONTACTED, 8),
    (Submission.Stage.BRANCH_MEETING, 6),
    (Submission.Stage.CLP_MEETING, 6),
    (Submission.Stage.PASSED, 4),
    (Submission.Stage.FELL, 4),
    (Submission.Stage.SUBMITTED, 6),
    (Submission.Stage.CONFIRMED, 6),
]
PATH = {
    Submission.Stage.CONTACTED: [],
    Submission.Stage.BRANCH_MEETING: ["branch_meeting"],
    Submission.Stage.CLP_MEETING: ["branch_meeting", "clp_meeting"],
    Submission.Stage.PASSED: ["clp_meeting", "passed"],
    Submission.Stage.FELL: ["clp_meeting", "fell"],
    Submission.Stage.SUBMITTED: ["branch_meeting", "clp_meeting", "passed", "submitted"],
    Submission.Stage.CONFIRMED: ["clp_meeting", "passed", "submitted", "confirmed"],
}
LIFE = {
    "prioritised": ["submitted", "ruled_in", "prioritised"],
    "not_prioritised": ["submitted", "ruled_in", "not_prioritised"],
    "scheduled": ["submitted", "ruled_in", "prioritised", "scheduled"],
    "carried": ["submitted", "ruled_in", "prioritised", "scheduled"],
    "ruled_out": ["submitted", "ruled_out"],
    "ruled_in": ["submitted", "ruled_in"],
}
REASONS = {"ruled_out": "Not contemporary: covered by the National Policy Forum report."}


def _slot(conference, day: int, hour: int, minute: int = 0) -> dt.datetime:
    zone = ZoneInfo(conference.timezone)
    date = conference.starts_on + dt.timedelta(days=day)
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=zone)


def _text(title: str) -> str:
    return f"Conference notes the case for the following: {title.lower()}. Conference calls on the NEC to act."


def seed(*, conference, scale: int = 1, seed: int = 2027) -> str:
    if Motion.objects.filter(conference=conference).exists():
        return "motions already there; left as they are"
    rng = random.Random(seed)
    clps = list(Organisation.objects.filter(kind=Organisation.Kind.CLP).order_by("name"))
    subjects = {}
    for name in dict.fromkeys(row[0] for row in MOTIONS):
        subjects[name] = Subject.objects.create(conference=conference, name=name)

    # The campaign's own motion, taken to CLPs.
    campaign = services.create_motion(
        conference=conference,
        title=CAMPAIGN_TITLE,
        text=CAMPAIGN_TEXT,
        subject=subjects["Social security"],
        position=Motion.Position.SUPPORT,
        is_campaign_motion=True,
    )
    now = timezone.now()
    stages = [stage for stage, weight in STAGE_WEIGHTS for _ in range(weight)]
    submitted_by = []
    for clp in rng.sample(clps, min(len(clps), 40 * scale)):
        stage = rng.choice(stages)
        started = now - dt.timedelta(days=rng.randint(20, 120))
        submission = services.start_submission(
            motion=campaign,
            organisation=clp,
            local_contact=f"{clp.name} secretary",
            at=started,
        )
        at = started
        for step in PATH[stage]:
            at = at + dt.timedelta(days=rng.randint(2, 14))
            if at > now:
                at = now - dt.timedelta(hours=rng.randint(1, 48))
            submission = services.move_submission(
                submission=submission, stage=step, at=at, meeting_on=at.date() if "meeting" in step else None
            )
        if stage in (Submission.Stage.SUBMITTED, Submission.Stage.CONFIRMED):
            submitted_by.append(clp)
    campaign.submitted_by.set(submitted_by)

    motions = {}
    for subject, title, kind, position, _status, _ in MOTIONS:
        motion = services.create_motion(
            conference=conference,
            title=title,
            text=_text(title),
            kind=kind,
            position=position,
            subject=subjects[subject],
            submitted_by=rng.sample(clps, 2),
        )
        motions[title] = motion
    for index, (_, title, kind, _, status, _) in enumerate(MOTIONS):
        motion = motions[title]
        steps = list(LIFE.get(status, []))
        if kind == "emergency" and "prioritised" in steps:
            steps.remove("prioritised")  # emergency motions skip the priorities ballot
        for step in steps:
            extra = {}
            if step == "scheduled":
                extra = {"scheduled_for": _slot(conference, 1 + index % 3, 10 + index % 6), "session": "Plenary"}
            motion = services.transition_motion(motion=motion, to_status=step, reason=REASONS.get(step, ""), **extra)
        motions[title] = motion
    for step in LIFE["prioritised"]:
        campaign = services.transition_motion(motion=campaign, to_status=step)
    composite = services.create_composite(
        motions=[
            campaign,
            motions["Abolish the benefit cap for families"],
            motions["Universal Credit: end the five-week wait"],
        ],
        title="Child poverty and social security",
        text=CAMPAIGN_TEXT,
        number=3,
        mover=submitted_by[0] if submitted_by else None,
        seconder=submitted_by[1] if len(submitted_by) > 1 else None,
    )
    composite = services.transition_motion(
        motion=composite, to_status="scheduled", scheduled_for=_slot(conference, 2, 11, 30), session="Social security"
    )
    water = motions["Bring water back into public ownership"]
    services.record_result(
        motion=water,
        clp_for="88.40",
        clp_against="11.60",
        affiliates_for="61.20",
        affiliates_against="38.80",
        total_for="74.80",
        total_against="25.20",
        card_vote_number=4,
    )

    # Stance histories for the motions still to be voted on (and the one already carried).
    lean = {title: bias for _, title, *_, bias in MOTIONS}
    lean[composite.title] = 0.6
    voting = [composite, water] + [m for t, m in motions.items() if m.status == MotionStatus.SCHEDULED]
    delegates = list(
        Delegate.objects.for_conference(conference).attending().select_related("organisation").order_by("pk")
    )
    # The campaign knows most affiliate delegations (unions vote as one), and has reached a few hundred CLP delegates.
    affiliates = [d for d in delegates if d.organisation.kind != Organisation.Kind.CLP]
    clp_delegates = [d for d in delegates if d.organisation.kind == Organisation.Kind.CLP]
    sample = affiliates + rng.sample(clp_delegates, min(len(clp_delegates), 300 * scale))
    changes = []
    for motion in voting:
        bias = lean.get(motion.title, 0.5)
        for delegate in sample:
            is_clp = delegate.organisation.kind == Organisation.Kind.CLP
            if rng.random() < (0.25 if is_clp else 0.1):
                continue  # not asked about this one yet
            # Union delegations tend to vote as one: the organisation sets the lean.
            org_rng = random.Random(f"{seed}:{motion.title}:{delegate.organisation_id}")
            tilt = rng.random() if is_clp else org_rng.random()
            final = (
                Level.FOR
                if tilt < bias - 0.1
                else Level.LEANING_FOR
                if tilt < bias
                else Level.UNDECIDED
                if tilt < bias + 0.1
                else Level.LEANING_AGAINST
                if tilt < bias + 0.2
                else Level.AGAINST
            )
            first = now - dt.timedelta(days=rng.uniform(1.5, 6))
            if final in (Level.FOR, Level.AGAINST) and rng.random() < 0.5:
                # First met undecided or leaning; a later conversation firmed it up.
                leaning = Level.LEANING_FOR if final == Level.FOR else Level.LEANING_AGAINST
                earlier = Level.UNDECIDED if rng.random() < 0.5 else leaning
                changes.append({"delegate": delegate, "motion": motion, "level": earlier, "at": first})
                first = now - dt.timedelta(hours=rng.uniform(0.5, 36))
            changes.append(
                {
                    "delegate": delegate,
                    "motion": motion,
                    "level": final,
                    "at": first,
                    "source": rng.choice([StanceChange.Source.CONVERSATION] * 3 + [StanceChange.Source.COORDINATOR]),
                    "confidence": rng.choice(StanceChange.Confidence.values),
                }
            )
    services.import_stances(changes=changes)

    if sample:
        services.create_assignment(
            motion=composite,
            volunteer_name="Sam Okafor",
            delegates=sample[:8],
            ask="Ask them to vote FOR Composite 3 on child poverty: scrap the two-child limit.",
            expires_at=max(_slot(conference, 4, 0), now + dt.timedelta(days=7)),
        )
    return (
        f"{len(motions) + 2} motions in {len(subjects)} subjects, {len(submitted_by)} CLPs submitted ours, "
        f"{len(changes)} stance changes for {len(sample)} delegates"
    )
