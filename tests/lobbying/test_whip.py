"""Current stances and the whip count, checked against numbers worked out by hand (see conftest.room)."""

import datetime as dt

import pytest
from django.utils import timezone

from lobbying import selectors, services
from lobbying.models import UNKNOWN, Level, StanceChange

pytestmark = pytest.mark.django_db


def _by_level(count):
    return {row["level"]: row for row in count["levels"]}


def test_whip_count_normalises_each_section_to_half_the_conference(room, motion):
    count = selectors.whip_count(motion=motion)
    levels = _by_level(count)
    # CLPs: 4,000 votes = 50 points; a1 500 → 6.25, b1 3,000 → 37.5, a2 500 → 6.25.
    # Affiliates: 100,000 votes = 50 points; u1 50,000 → 25 against, u2 unknown → 25.
    assert levels[Level.FOR]["share"] == pytest.approx(6.25)
    assert levels[Level.LEANING_FOR]["share"] == pytest.approx(37.5)
    assert levels[Level.UNDECIDED]["share"] == pytest.approx(0)
    assert levels[Level.AGAINST]["share"] == pytest.approx(31.25)
    assert levels[UNKNOWN]["share"] == pytest.approx(25)
    assert sum(row["share"] for row in count["levels"]) == pytest.approx(100)
    assert [levels[level]["delegates"] for level in (Level.FOR, Level.AGAINST, UNKNOWN)] == [1, 2, 1]
    assert levels[Level.AGAINST]["by_section"]["affiliates"]["percent"] == pytest.approx(50)
    assert count["for_share"] == pytest.approx(43.75)
    assert count["against_share"] == pytest.approx(31.25)
    assert count["margin"] == pytest.approx(12.5)
    assert count["projected_for"] == pytest.approx(100 * 43.75 / 75)
    assert count["projected_outcome"] == "carried"
    assert count["swing_share"] == pytest.approx(25)
    assert count["could_swing"] is True


def test_whip_count_by_region_covers_constituency_parties_only(room, motion):
    regions = {
        row["region"]: {c["level"]: c for c in row["levels"]} for row in selectors.whip_count(motion=motion)["regions"]
    }
    assert set(regions) == {"North West", "London"}
    assert regions["North West"][Level.FOR]["percent"] == pytest.approx(50)
    assert regions["North West"][Level.AGAINST]["percent"] == pytest.approx(50)
    assert regions["London"][Level.LEANING_FOR]["percent"] == pytest.approx(100)
    assert regions["London"][Level.LEANING_FOR]["delegates"] == 1


def test_whip_count_as_of_a_past_moment_uses_the_stances_known_then(room, motion):
    count = selectors.whip_count(motion=motion, as_of=room["now"] - dt.timedelta(days=1))
    levels = _by_level(count)
    assert levels[Level.UNDECIDED]["share"] == pytest.approx(6.25)  # a2 had not yet decided
    assert levels[Level.AGAINST]["share"] == pytest.approx(0)
    assert levels[UNKNOWN]["share"] == pytest.approx(50)  # neither union delegate had been asked
    assert count["margin"] == pytest.approx(43.75)


def test_changed_since_yesterday_shows_the_movement_per_level(room, motion):
    (count,) = selectors.whip_counts_with_change(
        conference=motion.conference, motions=[motion], since=room["now"] - dt.timedelta(days=1)
    )
    levels = _by_level(count)
    assert levels[Level.AGAINST]["change"] == 2
    assert levels[Level.UNDECIDED]["change"] == -1
    assert levels[UNKNOWN]["change"] == -1
    assert levels[Level.AGAINST]["share_change"] == pytest.approx(31.25)
    assert count["changed_delegates"] == 2  # a2 and u1 (b2 does not attend but is still a change recorded)


def test_the_latest_row_wins_even_when_two_share_a_moment(room, motion):
    moment = timezone.now() - dt.timedelta(minutes=5)
    for level in (Level.FOR, Level.AGAINST):
        services.record_stance(
            delegate=room["u2"], motion=motion, level=level, source=StanceChange.Source.COORDINATOR, at=moment
        )
    current = selectors.latest_stance_changes(motions=[motion]).get(delegate=room["u2"])
    assert current.level == Level.AGAINST
    assert selectors.delegates_with_stance(motion=motion).get(pk=room["u2"].pk).stance == Level.AGAINST


def test_delegates_with_stance_filters_by_levels_including_unknown(room, motion):
    against = selectors.delegates_with_stance(motion=motion, levels=[Level.AGAINST])
    assert {d.pk for d in against} == {room["a2"].pk, room["u1"].pk}
    unknown = selectors.delegates_with_stance(motion=motion, levels=[UNKNOWN])
    assert {d.pk for d in unknown} == {room["u2"].pk}
    earlier = selectors.delegates_with_stance(
        motion=motion, levels=[Level.UNDECIDED], as_of=room["now"] - dt.timedelta(days=1)
    )
    assert {d.pk for d in earlier} == {room["a2"].pk}


def test_whip_counts_for_several_motions_take_a_fixed_number_of_queries(
    room, motion, conference, django_assert_num_queries
):
    other = services.create_motion(conference=conference, title="Other", text="Words.", position="oppose")
    # 1 attending totals by section/region, 2 stances now, 3 stances a day ago, 4 delegates with a new stance.
    with django_assert_num_queries(4):
        counts = selectors.whip_counts_with_change(conference=conference, motions=[motion, other])
    assert _by_level(counts[1])[UNKNOWN]["share"] == pytest.approx(100)


def test_who_to_talk_to_puts_big_undecided_votes_first_and_recent_conversations_last(room, motion):
    services.record_stance(
        delegate=room["a2"], motion=motion, level=Level.LEANING_AGAINST, source=StanceChange.Source.CONVERSATION
    )
    ranked = list(selectors.who_to_talk_to(motion=motion))
    # b1 leaning for with 3,000; u2 unknown with 50,000; a2 just spoken to; a1/u1 decided; b2 absent.
    assert [d.pk for d in ranked] == [room["u2"].pk, room["b1"].pk, room["a2"].pk]


def test_the_postgresql_whip_queries_give_the_same_rows_as_the_portable_ones(room, motion):
    from tests.services import require_postgres

    require_postgres()

    def rows(groups):
        return sorted((tuple(sorted({**r, "votes": round(r["votes"], 6)}.items())) for r in groups), key=str)

    conference = motion.conference
    for as_of in (None, room["now"] - dt.timedelta(days=1)):
        assert rows(selectors._stance_groups(conference, [motion], as_of)) == rows(
            selectors._stance_groups_orm(conference, [motion], as_of)
        )
    assert rows(selectors._attending_totals(conference)) == rows(selectors._attending_totals_orm(conference))


@pytest.fixture
def subject_room(room, motion):
    """The room's motion under a subject, with a second motion on it that the campaign opposes."""
    from lobbying.models import Motion, Subject

    subject = Subject.objects.create(conference=motion.conference, name="Social security")
    services.update_motion(motion=motion, subject=subject)
    opposed = services.create_motion(
        conference=motion.conference,
        title="Keep the cap",
        text="Conference believes the limit is fair.",
        position=Motion.Position.OPPOSE,
        subject=subject,
    )
    now = room["now"]

    def say(who, level, ago):
        services.record_stance(
            delegate=room[who], motion=opposed, level=level, source=StanceChange.Source.COORDINATOR, at=now - ago
        )

    say("u2", Level.FOR, dt.timedelta(minutes=30))  # for the motion we oppose: against us
    say("a1", Level.AGAINST, dt.timedelta(minutes=10))  # against the motion we oppose: for us
    say("b1", Level.FOR, dt.timedelta(days=4))  # older than b1's "leaning for" on our motion: superseded
    return {**room, "subject": subject, "opposed": opposed}


def test_a_subject_count_takes_each_delegates_latest_stance_on_its_motions_from_the_campaigns_side(subject_room):
    (count,) = selectors.whip_counts_by_subject(conference=subject_room["subject"].conference)
    assert count["subject"] == subject_room["subject"]
    levels = _by_level(count)
    # CLPs (50 points): a1 for us (6.25), b1 leaning for (37.5), a2 against (6.25).
    # Affiliates (50 points): u1 against our motion (25), u2 for the motion we oppose, so against us (25).
    assert levels[Level.FOR]["share"] == pytest.approx(6.25)
    assert levels[Level.LEANING_FOR]["share"] == pytest.approx(37.5)
    assert levels[Level.AGAINST]["share"] == pytest.approx(56.25)
    assert levels[UNKNOWN]["share"] == pytest.approx(0)
    assert [levels[level]["delegates"] for level in (Level.FOR, Level.LEANING_FOR, Level.AGAINST)] == [1, 1, 3]
    assert count["margin"] == pytest.approx(-12.5)
    assert count["projected_outcome"] == "lost"


def test_a_subject_count_as_of_a_past_moment_ignores_later_stances(subject_room):
    (count,) = selectors.whip_counts_by_subject(
        conference=subject_room["subject"].conference, as_of=subject_room["now"] - dt.timedelta(hours=3)
    )
    levels = _by_level(count)
    # Three hours ago: a1 for, b1 leaning for, a2 undecided; neither union delegate asked yet.
    assert levels[Level.FOR]["share"] == pytest.approx(6.25)
    assert levels[Level.UNDECIDED]["share"] == pytest.approx(6.25)
    assert levels[UNKNOWN]["share"] == pytest.approx(50)


def test_the_postgresql_subject_query_gives_the_same_rows_as_the_portable_one(subject_room):
    from tests.services import require_postgres

    require_postgres()

    def rows(groups):
        return sorted((tuple(sorted({**r, "votes": round(r["votes"], 6)}.items())) for r in groups), key=str)

    subject = subject_room["subject"]
    for as_of in (None, subject_room["now"] - dt.timedelta(hours=3), subject_room["now"] - dt.timedelta(days=5)):
        sql_rows = rows(selectors._subject_stance_groups(subject.conference, [subject], as_of))
        assert sql_rows == rows(selectors._subject_stance_groups_orm(subject.conference, [subject], as_of))
    assert len(sql_rows) == 0  # five days ago: nothing recorded yet
