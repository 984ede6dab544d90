"""Reads about motions and stances: current stances, whip counts, who to talk to next.

The current stance is derived, never stored: the latest StanceChange per (motion, delegate) at or before a
moment. On PostgreSQL that is DISTINCT ON over the `stance_latest` index; elsewhere (SQLite) a NOT EXISTS
"no later row" anti-join. Whip counts are aggregated in the database; Python only arranges the few grouped rows.
"""

import datetime as dt
import functools
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core import signing
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from config.caching import aggregate_of, read_watermark
from delegates.models import Delegate, Organisation, Region, Section
from delegates.selectors import roster_watermark_parts
from lobbying.models import (
    ALL_LEVELS,
    ASSIGNMENT_SALT,
    LEVEL_LABELS,
    SUBMISSION_TRANSITIONS,
    UNKNOWN,
    UNTRACKED_STATUSES,
    BriefingRecipient,
    Level,
    LobbyingAssignment,
    Motion,
    ProposedStance,
    Result,
    SavedList,
    StanceChange,
    Subject,
    Submission,
)
from messaging.errors import explain
from messaging.models import InboundMessage, OutboundMessage

FOR_LEVELS = (Level.FOR, Level.LEANING_FOR)
AGAINST_LEVELS = (Level.AGAINST, Level.LEANING_AGAINST)
SWING_LEVELS = (Level.UNDECIDED, UNKNOWN)


# Current stances ---------------------------------------------------------------------------------------------------


def latest_stance_changes(*, motions=None, as_of=None):
    """The StanceChange rows that are each delegate's current stance on each motion (at ``as_of``, default now)."""
    rows = StanceChange.objects.all()
    if motions is not None:
        rows = rows.filter(motion__in=motions)
    if as_of is not None:
        rows = rows.filter(at__lte=as_of)
    if connection.vendor == "postgresql":
        latest = rows.order_by("motion_id", "delegate_id", "-at", "-id").distinct("motion_id", "delegate_id")
        return StanceChange.objects.filter(pk__in=Subquery(latest.values("pk")))
    later = rows.filter(motion=OuterRef("motion"), delegate=OuterRef("delegate")).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    )
    return rows.filter(~Exists(later))


def _stance_subquery(*, motion, as_of=None, field="level"):
    rows = StanceChange.objects.filter(delegate=OuterRef("pk"), motion=motion)
    if as_of is not None:
        rows = rows.filter(at__lte=as_of)
    return Subquery(rows.order_by("-at", "-pk").values(field)[:1])


def delegates_with_stance(*, motion, levels=None, as_of=None):
    """Delegates of the motion's conference annotated with ``stance`` (a Level value, or None for unknown).

    ``levels`` narrows to those stances; include "unknown" for delegates with no stance recorded. One query
    for a whole list (a correlated subquery per row over the `stance_latest` index). Briefings pick their
    audiences here.
    """
    queryset = Delegate.objects.for_conference(motion.conference_id).annotate(
        stance=_stance_subquery(motion=motion, as_of=as_of),
        stance_at=_stance_subquery(motion=motion, as_of=as_of, field="at"),
    )
    if levels is not None:
        levels = list(levels)
        condition = Q(stance__in=[level for level in levels if level != UNKNOWN])
        if UNKNOWN in levels:
            condition |= Q(stance__isnull=True)
        queryset = queryset.filter(condition)
    return queryset


# Whip counts -------------------------------------------------------------------------------------------------------


def _section_expression(prefix=""):
    return Case(
        When(**{f"{prefix}organisation__kind": Organisation.Kind.CLP}, then=Value(Section.CLP.value)),
        default=Value(Section.AFFILIATES.value),
        output_field=CharField(),
    )


def _card_vote_via_stance():
    """A stance row's delegate's card vote: the organisation's membership over its attending delegates."""
    attending = (
        Delegate.objects.filter(
            conference=OuterRef("delegate__conference"),
            organisation=OuterRef("delegate__organisation"),
            is_attending=True,
        )
        .order_by()
        .values("organisation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Cast("delegate__organisation__membership", FloatField()) / Cast(
        Coalesce(Subquery(attending), Value(1)), FloatField()
    )


def _attending_totals(conference):
    """Attending delegates and their card vote, grouped by section and region: one query."""
    if connection.vendor == "postgresql":
        return _fetch_dicts(TOTALS_SQL, {"conference": conference.pk})
    return _attending_totals_orm(conference)


def _attending_totals_orm(conference):
    return list(
        Delegate.objects.for_conference(conference)
        .attending()
        .with_card_vote()
        .annotate(section=_section_expression(), region=F("organisation__region"))
        .order_by()
        .values("section", "region")
        .annotate(n=Count("pk"), votes=Sum("card_vote"))
    )


def _stance_groups(conference, motions, as_of):
    """Current stances of attending delegates grouped by motion, section, region and level: one query."""
    if connection.vendor == "postgresql":
        sql = STANCE_GROUPS_SQL.format(as_of="AND s.at <= %(as_of)s" if as_of is not None else "")
        params = {"motions": [m.pk for m in motions], "conference": conference.pk, "as_of": as_of}
        return _fetch_dicts(sql, params)
    return _stance_groups_orm(conference, motions, as_of)


def _stance_groups_orm(conference, motions, as_of):
    return list(
        latest_stance_changes(motions=motions, as_of=as_of)
        .filter(delegate__conference=conference, delegate__is_attending=True)
        .annotate(
            section=_section_expression("delegate__"),
            region=F("delegate__organisation__region"),
            card_vote=_card_vote_via_stance(),
        )
        .order_by()
        .values("motion_id", "section", "region", "level")
        .annotate(n=Count("pk"), votes=Sum("card_vote"))
    )


# On PostgreSQL the two whip queries are written out: DISTINCT ON walks the `stance_latest` index, and each
# delegation's attending count is computed once and joined, rather than once per row as a correlated subquery
# (about 2.5× faster at seed_demo scale 4). The ORM versions above give the same rows (tests run both).
DELEGATION_SQL = """
    SELECT organisation_id, COUNT(*) AS attending FROM delegates_delegate
    WHERE conference_id = %(conference)s AND is_attending GROUP BY organisation_id
"""
TOTALS_SQL = f"""
SELECT CASE WHEN o.kind = 'clp' THEN 'clp' ELSE 'affiliates' END AS section, o.region AS region,
       COUNT(*) AS n, SUM(o.membership::float / dn.attending) AS votes
FROM delegates_delegate d
JOIN delegates_organisation o ON o.id = d.organisation_id
JOIN ({DELEGATION_SQL}) dn ON dn.organisation_id = d.organisation_id
WHERE d.conference_id = %(conference)s AND d.is_attending
GROUP BY 1, 2
"""  # noqa: S608  (our own constant formatted in; values are parameters)
STANCE_GROUPS_SQL = f"""
WITH latest AS (
    SELECT DISTINCT ON (s.motion_id, s.delegate_id) s.motion_id, s.delegate_id, s.level
    FROM lobbying_stancechange s
    WHERE s.motion_id = ANY(%(motions)s) {{as_of}}
    ORDER BY s.motion_id, s.delegate_id, s.at DESC, s.id DESC
)
SELECT l.motion_id AS motion_id, CASE WHEN o.kind = 'clp' THEN 'clp' ELSE 'affiliates' END AS section,
       o.region AS region, l.level AS level, COUNT(*) AS n, SUM(o.membership::float / dn.attending) AS votes
FROM latest l
JOIN delegates_delegate d ON d.id = l.delegate_id
JOIN delegates_organisation o ON o.id = d.organisation_id
JOIN ({DELEGATION_SQL}) dn ON dn.organisation_id = d.organisation_id
WHERE d.conference_id = %(conference)s AND d.is_attending
GROUP BY 1, 2, 3, 4
"""  # noqa: S608  (only our own constants are formatted in; values are parameters)


def _fetch_dicts(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _cell(n=0, votes=0.0):
    return {"delegates": n, "votes": votes}


def _arrange(*, motion, conference, totals, groups):
    """One motion's whip count from the grouped rows (a few dozen at most, whatever the size of the conference)."""
    weights = {Section.CLP: conference.clp_section_weight, Section.AFFILIATES: conference.affiliate_section_weight}
    sections = {s: {level: _cell() for level in ALL_LEVELS} for s in Section.values}
    regions = {}
    section_totals = {s: _cell() for s in Section.values}
    region_totals = {}
    for row in totals:
        cell = section_totals[row["section"]]
        cell["delegates"] += row["n"]
        cell["votes"] += row["votes"] or 0.0
        if row["section"] == Section.CLP and row["region"]:
            region_totals[row["region"]] = _cell(row["n"], row["votes"] or 0.0)
    for row in groups:
        cell = sections[row["section"]][row["level"]]
        cell["delegates"] += row["n"]
        cell["votes"] += row["votes"] or 0.0
        if row["section"] == Section.CLP and row["region"]:
            region = regions.setdefault(row["region"], {level: _cell() for level in ALL_LEVELS})
            region[row["level"]]["delegates"] += row["n"]
            region[row["level"]]["votes"] += row["votes"] or 0.0
    # Unknown: attending delegates with no stance recorded.
    for section, cells in sections.items():
        known = [cells[level] for level in Level.values]
        cells[UNKNOWN] = _cell(
            section_totals[section]["delegates"] - sum(c["delegates"] for c in known),
            max(section_totals[section]["votes"] - sum(c["votes"] for c in known), 0.0),
        )
    for region, total in region_totals.items():
        cells = regions.setdefault(region, {level: _cell() for level in ALL_LEVELS})
        known = [cells[level] for level in Level.values]
        cells[UNKNOWN] = _cell(
            total["delegates"] - sum(c["delegates"] for c in known),
            max(total["votes"] - sum(c["votes"] for c in known), 0.0),
        )

    def share(section, votes):
        total = section_totals[section]["votes"]
        return weights[section] * votes / total if total else 0.0

    levels = []
    for level in ALL_LEVELS:
        by_section = {}
        for section in Section.values:
            cell = sections[section][level]
            section_total = section_totals[section]["votes"]
            by_section[section] = {
                **cell,
                "percent": 100 * cell["votes"] / section_total if section_total else 0.0,
                "share": share(section, cell["votes"]),
            }
        levels.append(
            {
                "level": level,
                "label": LEVEL_LABELS[level],
                "delegates": sum(c["delegates"] for c in by_section.values()),
                "share": sum(c["share"] for c in by_section.values()),
                "by_section": by_section,
            }
        )
    by_level = {row["level"]: row for row in levels}
    for_share = sum(by_level[level]["share"] for level in FOR_LEVELS)
    against_share = sum(by_level[level]["share"] for level in AGAINST_LEVELS)
    swing_share = sum(by_level[level]["share"] for level in SWING_LEVELS)
    decided = for_share + against_share
    margin = for_share - against_share
    region_rows = []
    for region in Region.values:
        if region not in regions:
            continue
        total = region_totals.get(region, _cell())
        cells = regions[region]
        region_rows.append(
            {
                "region": region,
                "delegates": total["delegates"],
                "votes": total["votes"],
                "levels": [
                    {
                        "level": level,
                        **cells[level],
                        "percent": 100 * cells[level]["votes"] / total["votes"] if total["votes"] else 0.0,
                    }
                    for level in ALL_LEVELS
                ],
            }
        )
    return {
        "motion": motion,
        "levels": levels,
        "section_totals": section_totals,
        "weights": weights,
        "regions": region_rows,
        "for_share": for_share,
        "against_share": against_share,
        "swing_share": swing_share,
        # Of the weight that has decided (leaning counted with its side), the share for: the projected result.
        "projected_for": 100 * for_share / decided if decided else None,
        "margin": margin,
        "projected_outcome": "carried" if margin > 0 else ("lost" if margin < 0 else "tied"),
        # The undecided and unknown weight could overturn the projection.
        "could_swing": swing_share >= abs(margin),
    }


def whip_counts(*, conference, motions, as_of=None) -> list[dict]:
    """Whip counts for several motions in two queries: attending totals, and current stances grouped.

    Each section's card vote is normalised to its conference weight (50/50 by default) and the sections added,
    as a card vote is counted. Shares are percentage points of the whole conference vote.
    """
    motions = list(motions)
    if not motions:
        return []
    totals = _attending_totals(conference)
    groups = _stance_groups(conference, motions, as_of)
    by_motion = {}
    for row in groups:
        by_motion.setdefault(row["motion_id"], []).append(row)
    return [
        _arrange(motion=motion, conference=conference, totals=totals, groups=by_motion.get(motion.pk, []))
        for motion in motions
    ]


def whip_count(*, motion, as_of=None) -> dict:
    return whip_counts(conference=motion.conference, motions=[motion], as_of=as_of)[0]


def whip_counts_with_change(*, conference, motions, as_of=None, since=None) -> list[dict]:
    """Whip counts with "changed since": per level, the movement in delegates and share since ``since``.

    Four queries for any number of motions: totals, stances now, stances then, delegates with a new stance.
    """
    motions = list(motions)
    if not motions:
        return []
    now = as_of or timezone.now()
    since = since or now - dt.timedelta(days=1)
    totals = _attending_totals(conference)
    groups_now = _stance_groups(conference, motions, as_of)
    groups_then = _stance_groups(conference, motions, since)
    changed = dict(
        StanceChange.objects.filter(motion__in=motions, at__gt=since, at__lte=now, delegate__conference=conference)
        .order_by()
        .values("motion_id")
        .annotate(n=Count("delegate_id", distinct=True))
        .values_list("motion_id", "n")
    )
    counts = []
    for motion in motions:
        count = _arrange(
            motion=motion,
            conference=conference,
            totals=totals,
            groups=[row for row in groups_now if row["motion_id"] == motion.pk],
        )
        before = _arrange(
            motion=motion,
            conference=conference,
            totals=totals,
            groups=[row for row in groups_then if row["motion_id"] == motion.pk],
        )
        for row, old in zip(count["levels"], before["levels"], strict=True):
            row["change"] = row["delegates"] - old["delegates"]
            row["share_change"] = row["share"] - old["share"]
        count["margin_change"] = count["margin"] - before["margin"]
        count["changed_delegates"] = changed.get(motion.pk, 0)
        count["as_of"] = as_of
        count["since"] = since
        counts.append(count)
    return counts


# Whip counts per subject ------------------------------------------------------------------------------------------

# A stance seen from the campaign's side: "for" a motion the campaign opposes is against the campaign's line.
FLIPPED_LEVELS = {
    Level.FOR: Level.AGAINST,
    Level.LEANING_FOR: Level.LEANING_AGAINST,
    Level.UNDECIDED: Level.UNDECIDED,
    Level.LEANING_AGAINST: Level.LEANING_FOR,
    Level.AGAINST: Level.FOR,
}


def _campaign_level():
    return Case(
        *[
            When(motion__position=Motion.Position.OPPOSE, level=level, then=Value(flipped.value))
            for level, flipped in FLIPPED_LEVELS.items()
        ],
        default=F("level"),
        output_field=CharField(),
    )


def _subject_stance_groups(conference, subjects, as_of):
    """Each attending delegate's stance per subject, grouped by subject, section, region and level: one query."""
    if connection.vendor == "postgresql":
        sql = SUBJECT_GROUPS_SQL.format(as_of="AND s.at <= %(as_of)s" if as_of is not None else "")
        params = {
            "subjects": [subject.pk for subject in subjects],
            "conference": conference.pk,
            "as_of": as_of,
            "watch": Motion.Position.WATCH.value,
            "oppose": Motion.Position.OPPOSE.value,
            "untracked": [str(status) for status in UNTRACKED_STATUSES],
        }
        return _fetch_dicts(sql, params)
    return _subject_stance_groups_orm(conference, subjects, as_of)


def _subject_stance_groups_orm(conference, subjects, as_of):
    rows = StanceChange.objects.filter(
        motion__in=Motion.objects.for_conference(conference).tracked().filter(subject__in=subjects)
    )
    if as_of is not None:
        rows = rows.filter(at__lte=as_of)
    later = rows.filter(motion__subject=OuterRef("motion__subject"), delegate=OuterRef("delegate")).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    )
    grouped = (
        rows.filter(~Exists(later), delegate__conference=conference, delegate__is_attending=True)
        .annotate(
            subject_key=F("motion__subject_id"),
            section=_section_expression("delegate__"),
            region=F("delegate__organisation__region"),
            card_vote=_card_vote_via_stance(),
            campaign_level=_campaign_level(),
        )
        .order_by()
        .values("subject_key", "section", "region", "campaign_level")
        .annotate(n=Count("pk"), votes=Sum("card_vote"))
    )
    return [{"level": row.pop("campaign_level"), **row} for row in grouped]


# As STANCE_GROUPS_SQL, the latest row per (subject, delegate) over the subject's tracked motions, flipped on the
# motions the campaign opposes (FLIPPED_LEVELS); the ORM version above gives the same rows (a test runs both).
_FLIP_SQL = " ".join(f"WHEN '{level}' THEN '{flipped}'" for level, flipped in FLIPPED_LEVELS.items())
SUBJECT_GROUPS_SQL = f"""
WITH latest AS (
    SELECT DISTINCT ON (m.subject_id, s.delegate_id) m.subject_id, s.delegate_id,
           CASE WHEN m.position = %(oppose)s THEN CASE s.level {_FLIP_SQL} END ELSE s.level END AS level
    FROM lobbying_stancechange s
    JOIN lobbying_motion m ON m.id = s.motion_id
    WHERE m.subject_id = ANY(%(subjects)s) AND m.conference_id = %(conference)s AND m.position <> %(watch)s
          AND NOT (m.status = ANY(%(untracked)s)) {{as_of}}
    ORDER BY m.subject_id, s.delegate_id, s.at DESC, s.id DESC
)
SELECT l.subject_id AS subject_key, CASE WHEN o.kind = 'clp' THEN 'clp' ELSE 'affiliates' END AS section,
       o.region AS region, l.level AS level, COUNT(*) AS n, SUM(o.membership::float / dn.attending) AS votes
FROM latest l
JOIN delegates_delegate d ON d.id = l.delegate_id
JOIN delegates_organisation o ON o.id = d.organisation_id
JOIN ({DELEGATION_SQL}) dn ON dn.organisation_id = d.organisation_id
WHERE d.conference_id = %(conference)s AND d.is_attending
GROUP BY 1, 2, 3, 4
"""  # noqa: S608  (only our own constants are formatted in; values are parameters)


def subjects_with_tracked_motions(conference):
    return Subject.objects.filter(
        conference=conference, pk__in=Motion.objects.for_conference(conference).tracked().values("subject")
    ).order_by("name", "pk")


def whip_counts_by_subject(*, conference, subjects=None, as_of=None) -> list[dict]:
    """Whip counts per subject (priorities-ballot topic): the campaign's line on the topic, three queries.

    A delegate's stance on a subject is their latest stance on any of its tracked motions (support or oppose,
    still to be voted on), read from the campaign's side: "for" a motion the campaign opposes counts as against,
    "leaning for" it as leaning against. So "for" in a subject's count means for the campaign's position, and the
    projected result is the campaign's line carrying. Delegates with no stance on any of its motions are unknown.
    """
    subjects = list(subjects_with_tracked_motions(conference) if subjects is None else subjects)
    if not subjects:
        return []
    totals = _attending_totals(conference)
    by_subject = {}
    for row in _subject_stance_groups(conference, subjects, as_of):
        by_subject.setdefault(row["subject_key"], []).append(row)
    counts = []
    for subject in subjects:
        count = _arrange(motion=None, conference=conference, totals=totals, groups=by_subject.get(subject.pk, []))
        count["subject"] = subject
        counts.append(count)
    return counts


# Who to talk to next -----------------------------------------------------------------------------------------------


def who_to_talk_to(*, motion, limit=30, now=None, recent=dt.timedelta(hours=12)):
    """Attending delegates whose vote is still in play, biggest card vote first, not spoken to recently.

    Undecided, leaning either way, or unknown; delegates with a conversation in the last ``recent`` go last.
    """
    now = now or timezone.now()
    last_conversation = Subquery(
        StanceChange.objects.filter(delegate=OuterRef("pk"), motion=motion, source=StanceChange.Source.CONVERSATION)
        .order_by("-at")
        .values("at")[:1]
    )
    return (
        delegates_with_stance(
            motion=motion, levels=[Level.UNDECIDED, Level.LEANING_FOR, Level.LEANING_AGAINST, UNKNOWN]
        )
        .attending()
        .with_card_vote()
        .select_related("organisation")
        .annotate(
            last_conversation=last_conversation,
            spoken_recently=Case(
                When(last_conversation__gt=now - recent, then=Value(1)), default=Value(0), output_field=CharField()
            ),
        )
        .order_by("spoken_recently", "-card_vote", "last_name", "pk")[:limit]
    )


# Motions, submissions, assignments ---------------------------------------------------------------------------------


def pipeline(*, motion, region=None, stuck_limit=10):
    """Counts per stage and the submissions stuck longest in an open stage: two queries."""
    submissions = Submission.objects.filter(motion=motion)
    if region:
        submissions = submissions.filter(organisation__region=region)
    counts = dict(submissions.order_by().values_list("stage").annotate(n=Count("pk")))
    stuck = list(
        submissions.filter(stage__in=("contacted", "branch_meeting", "clp_meeting", "passed"))
        .select_related("organisation")
        .order_by("stage_changed_at", "pk")[:stuck_limit]
    )
    stages = [
        {"stage": value, "label": label, "count": counts.get(value, 0)} for value, label in Submission.Stage.choices
    ]
    return {"stages": stages, "total": sum(counts.values()), "stuck": stuck}


def assignment_from_token(token: str):
    """The live assignment a private link opens, or None when the link is tampered, expired or revoked."""
    try:
        data = signing.loads(token, salt=ASSIGNMENT_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("assignment"), int):
        return None
    return (
        LobbyingAssignment.objects.live().select_related("motion", "conference").filter(pk=data["assignment"]).first()
    )


def motions_for_dashboard(conference):
    """Motions the campaign takes a side on that are still to be (or have just been) voted on, by agenda slot."""
    return (
        Motion.objects.for_conference(conference)
        .tracked()
        .select_related("subject", "result")
        .order_by("scheduled_for", "pk")
    )


# The dashboard's whip panels ---------------------------------------------------------------------------------------


def _stance_list_url(base, **params) -> str:
    return base + "?" + urlencode({k: v for k, v in params.items() if v})


def whip_panels(*, conference, as_of=None) -> list[dict]:
    """The dashboard's whip counts, each cell carrying the link to the delegates behind it. Five queries."""
    motions = list(motions_for_dashboard(conference))
    counts = whip_counts_with_change(conference=conference, motions=motions, as_of=as_of)
    stamp = as_of.isoformat(timespec="minutes") if as_of else ""
    base = reverse("lobbying:stance-delegates")  # once: a whip count has a few hundred cells
    for count in counts:
        motion_id = count["motion"].pk
        for row in count["levels"]:
            row["url"] = _stance_list_url(base, motion=motion_id, stance=row["level"], is_attending="true", as_of=stamp)
            for section, cell in row["by_section"].items():
                cell["url"] = _stance_list_url(
                    base, motion=motion_id, stance=row["level"], section=section, is_attending="true", as_of=stamp
                )
        for region in count["regions"]:
            for cell in region["levels"]:
                cell["url"] = _stance_list_url(
                    base, motion=motion_id, stance=cell["level"], region=region["region"], section="clp",
                    is_attending="true", as_of=stamp,
                )  # fmt: skip
        count["motion_url"] = _stance_list_url(base, motion=motion_id, is_attending="true", as_of=stamp)
    return counts


def projection_by_section(count) -> dict:
    """The whip count as a vote result would be published: each section's "for" share of its decided vote."""
    decided_for, decided = {}, {}
    for row in count["levels"]:
        for section, cell in row["by_section"].items():
            if row["level"] in FOR_LEVELS:
                decided_for[section] = decided_for.get(section, 0.0) + cell["votes"]
            if row["level"] in FOR_LEVELS + AGAINST_LEVELS:
                decided[section] = decided.get(section, 0.0) + cell["votes"]
    result = {}
    for section in Section.values:
        result[f"{section}_for"] = (
            100 * decided_for.get(section, 0.0) / decided[section] if decided.get(section) else None
        )
    return {**result, "total_for": count["projected_for"]}


def submissions_in_stage(*, motion, stage, region=None):
    submissions = Submission.objects.filter(motion=motion, stage=stage).select_related("organisation")
    if region:
        submissions = submissions.filter(organisation__region=region)
    rows = list(submissions.order_by("stage_changed_at", "pk"))
    for row in rows:
        row.next_stages = [Submission.Stage(s) for s in SUBMISSION_TRANSITIONS[row.stage]]
    return rows


def agenda_for_day(*, conference, day):
    """Motions scheduled on one conference day (in the conference's time zone), in agenda order."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(conference.timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return list(
        Motion.objects.for_conference(conference)
        .filter(scheduled_for__gte=start, scheduled_for__lt=start + dt.timedelta(days=1))
        .exclude(status__in=("withdrawn",))
        .select_related("subject", "result")
        .order_by("scheduled_for", "pk")
    )


# Briefings: live progress and the report ---------------------------------------------------------------------------

# How each outbox status counts on a briefing's bar: "failed" takes Twilio's undelivered too.
PROGRESS_BUCKETS = {
    "queued": ("queued",),
    "held": ("held",),
    "sending": ("sending",),
    "sent": ("sent",),
    "delivered": ("delivered",),
    "failed": ("failed", "undelivered"),
    "unknown": ("unknown",),
    "skipped": ("skipped",),
}
# Still ours to send: everything else has been handed to the provider or settled without it.
PENDING_BUCKETS = ("queued", "held", "sending")
# Why a text was skipped, in words (the outbox's error code; see messaging/errors.py for the provider's codes).
SKIP_REASONS = {
    "opted_out": "Opted out",
    "no_consent": "No consent",
    "cancelled": "Cancelled",
    "expired": "Too late (past its useless-after time)",
}


@dataclass
class BriefingProgress:
    total: int
    queued: int
    held: int  # paused with the briefing
    sending: int
    sent: int
    delivered: int
    failed: int
    unknown: int
    skipped: int
    replied: int

    @property
    def pending(self) -> int:
        return self.queued + self.held + self.sending

    @property
    def done(self) -> int:
        return self.total - self.pending

    @property
    def percent_done(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0

    def shares(self) -> list[dict]:
        """The bar's segments in order, each with its share of the audience (for widths and labels)."""
        order = ("delivered", "sent", "unknown", "failed", "skipped", "sending", "held", "queued")
        return [
            {"bucket": name, "n": getattr(self, name), "share": 100.0 * getattr(self, name) / self.total}
            for name in order
            if self.total and getattr(self, name)
        ]


def _briefing_outbox(briefing):
    """The outbox rows of a briefing's frozen recipients (their keys are `briefing:<id>:delegate:<id>`).

    Matched on the recipients' keys rather than a key prefix, so a row counts only if it was frozen for this
    briefing; both sides are unique indexes.
    """
    return OutboundMessage.objects.filter(
        idempotency_key__in=BriefingRecipient.objects.filter(briefing=briefing).values("idempotency_key")
    )


def briefing_progress(*, briefing) -> BriefingProgress:
    """Counts by outbox status and replies, in ONE query whatever the audience size (conditional counts)."""
    counts = {name: Count("pk", filter=Q(status__in=statuses)) for name, statuses in PROGRESS_BUCKETS.items()}
    replied = Exists(InboundMessage.objects.filter(in_reply_to=OuterRef("pk")))
    row = (
        _briefing_outbox(briefing)
        .order_by()
        .aggregate(total=Count("pk"), replied=Count("pk", filter=Q(replied)), **counts)
    )
    return BriefingProgress(**row)


def briefings_with_progress(briefings) -> list[tuple]:
    """(briefing, BriefingProgress) for a page of briefings, with one query for all their counts."""
    briefings = list(briefings)
    status = Subquery(OutboundMessage.objects.filter(idempotency_key=OuterRef("idempotency_key")).values("status")[:1])
    replied = Exists(InboundMessage.objects.filter(in_reply_to__idempotency_key=OuterRef("idempotency_key")))
    rows = (
        BriefingRecipient.objects.filter(briefing__in=[b.pk for b in briefings])
        .annotate(outbox_status=status, replied=replied)
        .order_by()
        .values("briefing_id", "outbox_status", "replied")
        .annotate(n=Count("pk"))
    )
    bucket_of = {status: name for name, statuses in PROGRESS_BUCKETS.items() for status in statuses}
    tallies = {b.pk: dict.fromkeys(["total", "replied", *PROGRESS_BUCKETS], 0) for b in briefings}
    for row in rows:
        tally = tallies[row["briefing_id"]]
        tally["total"] += row["n"]
        # A recipient without an outbox row has not been queued yet: it is still to send.
        tally[bucket_of.get(row["outbox_status"], "queued")] += row["n"]
        tally["replied"] += row["n"] if row["replied"] else 0
    return [(b, BriefingProgress(**tallies[b.pk])) for b in briefings]


@dataclass
class BriefingReport:
    """A briefing's outcome: failures and skipped texts with a reason a person understands, and replies.

    The three lists are querysets of outbox rows / replies, paged by the caller; `people` then names the
    delegates of one page with one query.
    """

    briefing: object
    failures: object  # OutboundMessage queryset
    failure_reasons: list  # [{"reason", "code", "n"}], most common first
    skipped: object
    replies: object  # InboundMessage queryset


def briefing_report(*, briefing) -> BriefingReport:
    outbox = _briefing_outbox(briefing).order_by()
    failed_statuses = PROGRESS_BUCKETS["failed"]
    failures = outbox.filter(status__in=failed_statuses).order_by("error_code", "pk")
    reasons = [
        {"code": row["error_code"], "reason": explain_failure(row["error_code"], row["message"]), "n": row["n"]}
        for row in failures.order_by()
        .values("error_code")
        .annotate(n=Count("pk"), message=Max("error_message"))
        .order_by("-n", "error_code")
    ]
    return BriefingReport(
        briefing=briefing,
        failures=failures,
        failure_reasons=reasons,
        skipped=outbox.filter(status__in=PROGRESS_BUCKETS["skipped"]).order_by("error_code", "pk"),
        replies=InboundMessage.objects.filter(in_reply_to__in=_briefing_outbox(briefing).values("pk")).order_by(
            "-received_at", "-pk"
        ),
    )


def explain_failure(code: str, message: str = "") -> str:
    """The provider's error in words a coordinator can act on (messaging's table), else what it said."""
    return explain(code) or message or (f"Provider error {code}" if code else "No reason given")


def explain_skip(code: str, message: str = "") -> str:
    return SKIP_REASONS.get(code) or explain(code) or message or "Not sent"


def people_for(rows, *, key=lambda row: row.idempotency_key) -> dict:
    """{outbox key: the delegate it went to (with organisation)} for one page of report rows: one query."""
    keys = {key(row) for row in rows}
    recipients = BriefingRecipient.objects.filter(idempotency_key__in=keys).select_related("delegate__organisation")
    return {r.idempotency_key: r.delegate for r in recipients}


@functools.cache  # the expressions only: built once per process, copied by Django whenever a query uses them
def whip_watermark_parts() -> dict:
    """Everything the whip panels and counts depend on, as named watermark parts (config/caching.py): the newest
    stance change and result, the section weights, and the latest edit and row count of the conference's
    delegates, organisations and motions.

    Each count catches deletions; each max(updated_at) catches edits (bulk updates in imports and services set
    updated_at too). Stance changes and results are append-only, so the newest id of all (an index lookup, not a
    scan of the conference's rows) moves with every new one; a result removed is caught by the count.
    """
    return {
        "clp_section_weight": "clp_section_weight",
        "affiliate_section_weight": "affiliate_section_weight",
        "stance_newest": aggregate_of(StanceChange, None, Max("id")),
        **roster_watermark_parts(),
        "motions_edited": aggregate_of(Motion, "conference", Max("updated_at")),
        "motions": aggregate_of(Motion, "conference", Count("id")),
        "results_newest": aggregate_of(Result, None, Max("id")),
        "results": aggregate_of(Result, None, Count("id")),
    }


def whip_watermark(conference, marks: dict | None = None) -> tuple:
    """The whip's watermark in ONE query, or picked out of `marks` a page has already read with other parts."""
    parts = whip_watermark_parts()
    marks = marks if marks is not None else read_watermark(conference, parts)
    return tuple(marks[name] for name in parts)


# Subject access (privacy composes these; each returns (title, queryset) pairs) ----------------------------------


def personal_data_of_delegate(delegate) -> list[tuple[str, object]]:
    """A delegate's stance history (with who recorded each), the lobbying lists they are on, briefings received."""
    return [
        (
            "Stance history and conversations",
            StanceChange.objects.filter(delegate=delegate).select_related("motion").order_by("at", "pk"),
        ),
        (
            "Lobbying lists they are on",
            LobbyingAssignment.delegates.through.objects.filter(delegate=delegate).order_by("pk"),
        ),
        ("Briefings received", BriefingRecipient.objects.filter(delegate=delegate).order_by("created_at", "pk")),
        (
            "Replies to briefings read as a stance",
            ProposedStance.objects.filter(delegate=delegate).order_by("created_at", "pk"),
        ),
        ("Saved lists they are on", SavedList.delegates.through.objects.filter(delegate=delegate).order_by("pk")),
    ]


def personal_data_of_lobbying_volunteer(*, mobile: str = "", volunteer_ids=()) -> list[tuple[str, object]]:
    """Lobbying assignments given to a volunteer, found by their mobile or their volunteers-app id."""
    query = Q(pk__in=[])
    if mobile:
        query |= Q(volunteer_mobile=mobile)
    if volunteer_ids:
        query |= Q(volunteer_ref__in=list(volunteer_ids))
    return [("Lobbying assignments", LobbyingAssignment.objects.filter(query).order_by("created_at", "pk"))]


def submissions_naming_contact(*, mobile: str = "", email: str = ""):
    """Submissions whose free-text local contact mentions this email or number."""
    query = Q(pk__in=[])
    for value in (mobile, email):
        if value:
            query |= Q(local_contact__icontains=value)
    return Submission.objects.filter(query).order_by("pk")


# Proposed stances (replies to briefings) ----------------------------------------------------------------------------


def proposals_with_current_stance(queryset=None):
    """Proposals with the delegate and organisation, the motion, the reply, and the delegate's stance on that motion
    now (``current_level``, None for unknown): one query for a page, however many rows."""
    queryset = ProposedStance.objects.all() if queryset is None else queryset
    current = StanceChange.objects.filter(delegate=OuterRef("delegate"), motion=OuterRef("motion"))
    return queryset.select_related("delegate__organisation", "motion", "inbound", "decided_by").annotate(
        current_level=Subquery(current.order_by("-at", "-pk").values("level")[:1])
    )


def pending_proposals(*, conference, motion=None):
    """Proposals waiting for a coordinator at this conference (optionally one motion's), newest first."""
    rows = proposals_with_current_stance(ProposedStance.objects.waiting(conference=conference))
    if motion is not None:
        rows = rows.filter(motion=motion)
    return rows.order_by("-created_at", "-pk")


def pending_proposals_alert(*, conference) -> dict | None:
    """The dashboard's nudge when delegates' replies wait to be accepted or rejected: one count query."""
    waiting = ProposedStance.objects.waiting(conference=conference).count()
    if not waiting:
        return None
    return {
        "level": "warning",
        "text": f"{waiting} repl{'y' if waiting == 1 else 'ies'} to briefings state{'s' if waiting == 1 else ''} a "
        "stance: accept or reject.",
        "url": reverse("lobbying:proposal-list"),
    }
