import pytest

from delegates.rules import clp_delegate_entitlement, extra_places


@pytest.mark.parametrize(
    ("members", "delegates"),
    [
        (0, 0),
        (1, 1),
        (749, 1),
        (750, 2),
        (999, 2),
        (1000, 3),
        (1249, 3),
        (1250, 4),
        (1499, 4),
        (1500, 5),
        (1749, 5),
        (1750, 6),
        (2000, 6),
        (25_000, 6),
    ],
)
def test_clp_entitlement_follows_the_rule_book_at_every_boundary(members, delegates):
    assert clp_delegate_entitlement(members) == delegates


def test_entitlement_uses_the_conference_numbers_not_constants():
    assert clp_delegate_entitlement(1000, first_band=499, band=100, cap=8) == 7
    assert clp_delegate_entitlement(5000, first_band=499, band=100, cap=8) == 8


@pytest.mark.parametrize(
    ("women", "young", "expected"),
    [(99, 29, (False, False)), (100, 29, (True, False)), (99, 30, (False, True)), (100, 30, (True, True))],
)
def test_extra_woman_and_youth_places_start_at_their_thresholds(women, young, expected):
    assert extra_places(women_members=women, young_members=young) == expected
