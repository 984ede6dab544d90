"""Demo volunteers and shifts for seed_demo: a conference week at ACC Liverpool, deterministic for a given seed.

Some shifts are full with a waitlist, some short of their minimum, so the rota has gaps to show. Demo mobiles
come only from Ofcom's drama range (07700 900700–900999), so the demo can never text a real person. Rows are
written directly (with their history rows, source "automatic") rather than through services.sign_up, so
seeding queues no texts.
"""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from messaging.services import relink_opt_outs
from volunteers.models import Location, Role, Shift, Signup, SignupChange, Volunteer
from volunteers.services import CONSENT_WORDING, ShiftPattern, create_day_of_shifts

LOCATIONS = [
    ("ACC Liverpool: main entrance", "Kings Dock Street side, by the drop-off. Outside the secure zone."),
    ("ACC Liverpool: Monarchs Quay entrance", "The riverside doors, facing the Wheel of Liverpool."),
    ("Secure-zone perimeter, Kings Parade", "Where delegates queue for the security check. Lanyards off."),
    ("Campaign stall, exhibition hall", "Stand 42, Hall 2 (inside: you need a visitor pass)."),
    ("Fringe venue: Pullman hotel, Kings Dock", "Function room 1, first floor. Meet the lead at the door."),
]
FIRST = [
    "Asha",
    "Ben",
    "Chloe",
    "Dev",
    "Ellie",
    "Femi",
    "Grace",
    "Hamza",
    "Isla",
    "Jack",
    "Kiran",
    "Leah",
    "Marcus",
    "Nia",
    "Owen",
    "Priya",
    "Rosa",
    "Sam",
    "Tariq",
    "Una",
    "Vikram",
    "Wendy",
    "Yusuf",
    "Zara",
    "Aled",
    "Bethan",
    "Ciaran",
    "Deborah",
    "Eamon",
    "Fatima",
]
LAST = [
    "Ahmed",
    "Begum",
    "Campbell",
    "Davies",
    "Evans",
    "Fraser",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nolan",
    "O'Brien",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Thomas",
    "Walsh",
    "Williams",
]
FIRST_DEMO_MOBILE = 700  # 07700 900700 upwards; delegates take numbers from the other end of the range


def _patterns(locations, day_index: int) -> list[ShiftPattern]:
    entrance, quay, perimeter, stall, fringe = locations
    patterns = [
        ShiftPattern(
            Role.LEAFLETING,
            entrance,
            dt.time(7, 30),
            dt.time(9, 30),
            capacity=6,
            minimum=3,
            notes="Today's whip sheet: collect a bundle from the lead.",
        ),
        ShiftPattern(Role.LEAFLETING, quay, dt.time(7, 30), dt.time(9, 30), capacity=4, minimum=2),
        ShiftPattern(
            Role.LOBBYING,
            perimeter,
            dt.time(9, 0),
            dt.time(12, 0),
            capacity=5,
            minimum=2,
            notes="Briefing notes in the group chat. Be polite; never block the queue.",
        ),
        ShiftPattern(Role.LOBBYING, perimeter, dt.time(13, 0), dt.time(16, 0), capacity=5, minimum=2),
        ShiftPattern(Role.STALL, stall, dt.time(10, 0), dt.time(13, 0), capacity=3, minimum=2),
        ShiftPattern(Role.STALL, stall, dt.time(13, 0), dt.time(16, 0), capacity=3, minimum=2),
    ]
    if day_index == 1:  # the fringe meeting is on the Monday evening
        patterns.append(
            ShiftPattern(
                Role.STEWARDING,
                fringe,
                dt.time(18, 0),
                dt.time(20, 30),
                capacity=4,
                minimum=3,
                notes="Doors 18:15, meeting 18:30. Count the room for the fire limit.",
            )
        )
    return patterns


@transaction.atomic
def seed(*, conference, scale: int = 1, seed: int = 2027) -> str:
    rng = random.Random(f"{seed}:volunteers")
    locations = []
    for name, directions in LOCATIONS:
        location, _ = Location.objects.get_or_create(
            conference=conference, name=name, defaults={"directions": directions}
        )
        locations.append(location)
    new_shifts = 0
    if not Shift.objects.filter(conference=conference).exists():
        day = conference.starts_on
        index = 0
        while day <= conference.ends_on:
            new_shifts += len(
                create_day_of_shifts(conference=conference, day=day, patterns=_patterns(locations, index))
            )
            day += dt.timedelta(days=1)
            index += 1

    wanted = min(100 + 50 * (scale - 1), 300)
    now = timezone.now()
    volunteers = []
    for i in range(wanted):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + i // len(FIRST)) % len(LAST)]}"
        volunteer, _ = Volunteer.objects.get_or_create(
            mobile=f"+447700900{FIRST_DEMO_MOBILE + i:03d}",
            defaults={
                "name": name,
                "consent_given_at": now,
                "consent_wording": CONSENT_WORDING,
                "consent_source": "demo data",
            },
        )
        volunteers.append(volunteer)
    relink_opt_outs(numbers=[v.mobile for v in volunteers], via="demo data")

    if Signup.objects.filter(shift__conference=conference).exists():
        return f"{new_shifts} shifts, {len(volunteers)} volunteers; sign-ups already there"

    shifts = list(Shift.objects.filter(conference=conference).order_by("starts_at", "pk"))
    busy: dict[int, list[Shift]] = {}
    signups, changes = [], []
    for shift in shifts:
        # A third of shifts short of their minimum, a third comfortable, a third full with a waitlist.
        mood = rng.choice(["short", "ok", "full"])
        target = {
            "short": rng.randint(0, max(shift.minimum - 1, 0)),
            "ok": rng.randint(shift.minimum, shift.capacity),
            "full": shift.capacity + rng.randint(1, 3),
        }[mood]
        candidates = rng.sample(volunteers, len(volunteers))
        placed = 0
        for volunteer in candidates:
            if placed >= target:
                break
            if any(s.starts_at < shift.ends_at and s.ends_at > shift.starts_at for s in busy.get(volunteer.pk, [])):
                continue
            status = Signup.Status.CONFIRMED if placed < shift.capacity else Signup.Status.WAITLISTED
            queued_at = now - dt.timedelta(minutes=rng.randint(60, 60 * 24 * 20))
            signups.append(Signup(shift=shift, volunteer=volunteer, status=status, queued_at=queued_at))
            if status == Signup.Status.CONFIRMED:
                busy.setdefault(volunteer.pk, []).append(shift)
            placed += 1
    Signup.objects.bulk_create(signups, batch_size=500)
    for signup in signups:
        changes.append(
            SignupChange(
                signup=signup,
                from_status="",
                to_status=signup.status,
                reason="demo data",
                source=SignupChange.Source.SYSTEM,
                at=signup.queued_at,
            )
        )
    SignupChange.objects.bulk_create(changes, batch_size=500)
    waiting = sum(1 for s in signups if s.status == Signup.Status.WAITLISTED)
    return (
        f"{new_shifts} shifts at {len(locations)} places, {len(volunteers)} volunteers, {len(signups)} sign-ups "
        f"({waiting} on waitlists)"
    )
