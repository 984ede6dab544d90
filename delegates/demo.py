"""A realistic, deterministic demo conference built from the reference data in delegates/data/.

Memberships are not public, so they are invented: plausible by region and seeded, so every run gives the
same conference. Phone numbers come only from Ofcom's drama range (07700 900000–900999): the demo never
texts a real person, even with Twilio configured.
"""

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from delegates.models import Conference, Delegate, Organisation, Region, SmsConsent, nation_of_region
from messaging.services import relink_opt_outs

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_SLUG = "labour-2027"
CONSENT_WORDING = (
    "I agree to receive text messages from the campaign about votes at Labour Party Conference 2027. "
    "I can reply STOP at any time to stop them."
)
FICTIONAL_MOBILES = [f"+447700900{n:03d}" for n in range(1000)]

# Typical CLP membership by region, before a seeded spread: London and the South East run large.
REGION_MEDIAN_MEMBERSHIP = {
    Region.LONDON: 950,
    Region.SOUTH_EAST: 720,
    Region.SOUTH_WEST: 640,
    Region.EAST: 560,
    Region.NORTH_WEST: 600,
    Region.YORKSHIRE: 540,
    Region.WEST_MIDLANDS: 470,
    Region.EAST_MIDLANDS: 480,
    Region.NORTH_EAST: 470,
    Region.WALES: 430,
    Region.SCOTLAND: 330,
    Region.NORTHERN_IRELAND: 400,
}
UNION_MEMBERSHIP = {
    "Unite": 900_000,
    "UNISON": 450_000,
    "GMB": 400_000,
    "Union of Shop, Distributive and Allied Workers": 330_000,
    "Communication Workers Union": 150_000,
    "Musicians' Union": 30_000,
    "Community": 25_000,
    "Fire Brigades Union": 25_000,
    "Associated Society of Locomotive Engineers and Firemen": 20_000,
    "Transport Salaried Staffs' Association": 14_000,
    "National Union of Mineworkers": 1_000,
}
WOMEN_NAMES = [
    "Aisha",
    "Amara",
    "Anna",
    "Bethan",
    "Carys",
    "Chloe",
    "Claire",
    "Deborah",
    "Eilidh",
    "Emma",
    "Fatima",
    "Fiona",
    "Grace",
    "Hannah",
    "Helen",
    "Imani",
    "Isla",
    "Jasmine",
    "Joanne",
    "Kate",
    "Laura",
    "Leah",
    "Lucy",
    "Mairi",
    "Maryam",
    "Megan",
    "Nadia",
    "Niamh",
    "Olivia",
    "Priya",
    "Rachel",
    "Rhiannon",
    "Ruth",
    "Samira",
    "Sarah",
    "Shabana",
    "Sian",
    "Sophie",
    "Tanya",
    "Yasmin",
    "Zara",
    "Zoe",
]
MEN_NAMES = [
    "Adam",
    "Ahmed",
    "Alex",
    "Ali",
    "Andrew",
    "Ben",
    "Callum",
    "Chris",
    "Daniel",
    "David",
    "Dev",
    "Euan",
    "Gareth",
    "Hamza",
    "Harry",
    "Ian",
    "Imran",
    "Jack",
    "James",
    "Jamal",
    "Joe",
    "Jon",
    "Kwame",
    "Liam",
    "Mark",
    "Matt",
    "Michael",
    "Mohammed",
    "Neil",
    "Owen",
    "Patrick",
    "Paul",
    "Rhys",
    "Rob",
    "Sam",
    "Sean",
    "Simon",
    "Tom",
    "Tunde",
    "Usman",
    "Will",
    "Yusuf",
]
SURNAMES = [
    "Adeyemi",
    "Ahmed",
    "Ali",
    "Anderson",
    "Armstrong",
    "Bailey",
    "Baker",
    "Begum",
    "Bell",
    "Bennett",
    "Brown",
    "Campbell",
    "Chowdhury",
    "Clarke",
    "Collins",
    "Cooper",
    "Davies",
    "Doherty",
    "Edwards",
    "Evans",
    "Fraser",
    "Gill",
    "Graham",
    "Green",
    "Hall",
    "Harris",
    "Hughes",
    "Hussain",
    "Jackson",
    "James",
    "Jones",
    "Kaur",
    "Kelly",
    "Khan",
    "King",
    "Lewis",
    "Macdonald",
    "Martin",
    "Mensah",
    "Mitchell",
    "Moore",
    "Morgan",
    "Murphy",
    "Murray",
    "Nowak",
    "O'Brien",
    "Okafor",
    "Owen",
    "Parry",
    "Patel",
    "Phillips",
    "Price",
    "Rahman",
    "Reid",
    "Roberts",
    "Robertson",
    "Robinson",
    "Scott",
    "Shah",
    "Singh",
    "Smith",
    "Stewart",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Walker",
    "Ward",
    "Watson",
    "White",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
]


@dataclass
class SeedResult:
    conference: Conference
    organisations_created: int
    delegates_created: int


def _read_csv(name: str) -> list[dict]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _copy_suffix(copy: int) -> str:
    return "" if copy == 1 else f" ({copy})"


def _short_name(note: str) -> str:
    """The abbreviation the reference data gives first in its note (``ASLEF; train drivers`` → ASLEF)."""
    candidate = note.split(";")[0].strip()
    return candidate if candidate and " " not in candidate and candidate[0].isupper() else ""


def _organisation_specs(scale: int, seed: int) -> list[dict]:
    """One spec per organisation: 632 GB CLPs + one for Northern Ireland + 31 affiliates, times ``scale``.

    Each organisation draws from its own seeded stream, so it comes out the same at every scale.
    """
    constituencies = [row for row in _read_csv("constituencies-2024.csv") if row["nation"] != "Northern Ireland"]
    affiliates = _read_csv("labour-affiliates.csv")
    specs = []
    for copy in range(1, scale + 1):
        suffix = _copy_suffix(copy)
        rows = [
            {"kind": Organisation.Kind.CLP, "name": r["name"], "gss_code": r["gss_code"], "region": r["region"]}
            for r in constituencies
        ]
        # Labour has a single CLP for all of Northern Ireland.
        rows.append({"kind": Organisation.Kind.CLP, "name": "Northern Ireland", "region": Region.NORTHERN_IRELAND})
        rows += [{"kind": r["kind"], "name": r["name"], "short_name": _short_name(r["note"])} for r in affiliates]
        for row in rows:
            rng = random.Random(f"{seed}:organisation:{row['name']}:{copy}")
            region = row.get("region", "")
            if row["kind"] == Organisation.Kind.CLP:
                membership = max(90, min(int(REGION_MEDIAN_MEMBERSHIP[region] * rng.lognormvariate(0, 0.45)), 4200))
            elif row["kind"] == Organisation.Kind.TRADE_UNION:
                membership = UNION_MEMBERSHIP.get(row["name"]) or rng.randint(5_000, 50_000)
            else:
                membership = rng.randint(400, 7_000)
            specs.append(
                {
                    "kind": row["kind"],
                    "name": row["name"] + suffix,
                    "short_name": row.get("short_name", ""),
                    "gss_code": row.get("gss_code", "") if copy == 1 else "",
                    "region": region,
                    "nation": nation_of_region(region),
                    "membership": membership,
                    "women_members": int(membership * rng.uniform(0.38, 0.52)),
                    "young_members": int(membership * rng.uniform(0.03, 0.12)),
                    "secretary_name": f"{rng.choice(WOMEN_NAMES + MEN_NAMES)} {rng.choice(SURNAMES)}",
                }
            )
    return specs


def _delegation_size(conference: Conference, organisation: Organisation, rng: random.Random) -> tuple[int, list[str]]:
    """How many delegates attend, and the extra seat types taken."""
    if organisation.kind == Organisation.Kind.CLP:
        if rng.random() < 0.18:
            return 0, []  # About one CLP in five sends no one.
        base = conference.delegate_entitlement(organisation)
        if base > 1 and rng.random() < 0.3:
            base -= 1  # CLPs need not send their full entitlement.
        extra_woman, extra_youth = conference.extra_places(organisation)
        extras = []
        if extra_woman and rng.random() < 0.5:
            extras.append(Delegate.SeatType.ADDITIONAL_WOMAN)
        if extra_youth and rng.random() < 0.4:
            extras.append(Delegate.SeatType.YOUTH)
        return base, extras
    if organisation.kind == Organisation.Kind.TRADE_UNION:
        return max(2, min(40, organisation.membership // 20_000)), []
    return 1, []


def _build_delegates(conference, organisation, rng, mobiles) -> list[tuple[Delegate, bool]]:
    base, extras = _delegation_size(conference, organisation, rng)
    seats = [Delegate.SeatType.ORDINARY] * base + extras
    built = []
    for index, seat in enumerate(seats):
        # At least every second delegate a woman: the first of each pair is.
        woman = seat == Delegate.SeatType.ADDITIONAL_WOMAN or index % 2 == 0 or rng.random() < 0.4
        first = rng.choice(WOMEN_NAMES if woman else MEN_NAMES)
        last = rng.choice(SURNAMES)
        mobile = mobiles.pop() if mobiles and rng.random() < 0.55 else ""
        delegate = Delegate(
            conference=conference,
            organisation=organisation,
            first_name=first,
            last_name=last,
            gender=Delegate.Gender.WOMAN if woman else Delegate.Gender.MAN,
            seat_type=seat,
            is_attending=rng.random() > 0.04,
            mobile=mobile,
            email=f"{first}.{last}.{organisation.pk}@delegates.example.org".lower().replace("'", ""),
        )
        built.append((delegate, bool(mobile) and rng.random() < 0.7))
    return built


def demo_conference() -> Conference:
    london = ZoneInfo("Europe/London")
    conference, _ = Conference.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={
            "name": "Labour Party Conference 2027",
            "organiser": "The Labour Party",
            "venue": "ACC Liverpool",
            "starts_on": dt.date(2027, 9, 26),
            "ends_on": dt.date(2027, 9, 29),
            "motions_deadline": dt.datetime(2027, 9, 16, 17, 0, tzinfo=london),
            "emergency_motions_deadline": dt.datetime(2027, 9, 24, 12, 0, tzinfo=london),
            "is_current": not Conference.objects.filter(is_current=True).exists(),
        },
    )
    return conference


@transaction.atomic
def seed_demo(*, scale: int = 1, seed: int = 2027) -> SeedResult:
    """Create (or complete) the demo conference. Running it again changes nothing."""
    conference = demo_conference()
    specs = _organisation_specs(scale, seed)
    existing = set(Organisation.objects.values_list("name", flat=True))
    new_orgs = []
    for spec in specs:
        if spec["name"] in existing:
            continue
        slug = "".join(ch for ch in spec["name"].lower() if ch.isalnum())[:30]
        new_orgs.append(Organisation(secretary_email=f"secretary@{slug}.example.org", **spec))
    Organisation.objects.bulk_create(new_orgs, batch_size=500)

    names = [spec["name"] for spec in specs]
    organisations = {o.name: o for o in Organisation.objects.filter(name__in=names)}
    with_delegates = set(
        Delegate.objects.filter(conference=conference).values_list("organisation_id", flat=True).distinct()
    )
    used_mobiles = set(
        Delegate.objects.filter(conference=conference).exclude(mobile="").values_list("mobile", flat=True)
    )
    mobiles = [m for m in reversed(FICTIONAL_MOBILES) if m not in used_mobiles]  # popped from the end
    planned: list[tuple[Delegate, bool]] = []
    for name in names:
        organisation = organisations[name]
        # A separate stream per organisation keeps each delegation the same whatever ran before.
        org_rng = random.Random(f"{seed}:{name}")
        if organisation.pk in with_delegates:
            continue
        planned.extend(_build_delegates(conference, organisation, org_rng, mobiles))
    created = Delegate.objects.bulk_create([d for d, _ in planned], batch_size=500)
    relink_opt_outs(numbers=[d.mobile for d in created], via="demo data")
    consents = [
        SmsConsent(delegate=d, method=SmsConsent.Method.WEB_FORM, wording=CONSENT_WORDING, given_at=d.created_at)
        for d, (_, consented) in zip(created, planned, strict=True)
        if consented
    ]
    SmsConsent.objects.bulk_create(consents, batch_size=500)
    return SeedResult(conference=conference, organisations_created=len(new_orgs), delegates_created=len(created))
