"""Conference rules as pure functions. The numbers come from the Conference row, never constants."""

from math import ceil


def clp_delegate_entitlement(members: int, *, first_band: int = 749, band: int = 250, cap: int = 6) -> int:
    """Base delegates a CLP may send (Labour Rule Book C3.I.1.B).

    One delegate for the first ``first_band`` members or part of that number, one more for every further
    ``band`` members or part of it, at most ``cap``. A CLP with no members sends none.
    With the 2022 rules: 1–749 → 1, 750–999 → 2, …, 1,750 or more → 6.
    """
    if members <= 0:
        return 0
    return min(cap, 1 + ceil(max(0, members - first_band) / band))


def extra_places(*, women_members: int, young_members: int, women_threshold: int = 100, youth_threshold: int = 30):
    """The additional woman and youth places (C3.I.1.C): returns (extra_woman, extra_youth)."""
    return women_members >= women_threshold, young_members >= youth_threshold
