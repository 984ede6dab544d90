"""Reads about organisations and delegates that pages in other rooms compose (the dashboard, reports).

`delegates` is the base of the domain: nothing here knows about lobbying or volunteers.
"""

import functools
from urllib.parse import urlencode

from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.urls import reverse

from config.caching import aggregate_of, cached_by_watermark, read_watermark
from delegates.models import Delegate, Organisation, Region, Section, SmsConsent
from messaging.models import OptOut


@functools.cache  # the expressions only: built once per process, copied by Django whenever a query uses them
def roster_watermark_parts() -> dict:
    """Watermark parts (config/caching.py) that move whenever the conference's delegates or any organisation
    change: latest edit and row count of each (a count catches deletions)."""
    return {
        "delegates_edited": aggregate_of(Delegate, "conference", Max("updated_at")),
        "delegates": aggregate_of(Delegate, "conference", Count("id")),
        "organisations_edited": aggregate_of(Organisation, None, Max("updated_at")),  # across conferences
        "organisations": aggregate_of(Organisation, None, Count("id")),
    }


@functools.cache
def overview_watermark_parts() -> dict:
    """What the dashboard overview depends on: the roster, SMS consents given and withdrawn (of every conference:
    an index lookup and a small count rather than a join), and opt-outs (STOP and START change a row's
    updated_at and the count; erasure blanks its number)."""
    return {
        **roster_watermark_parts(),
        "consents_newest": aggregate_of(SmsConsent, None, Max("id")),
        "consents_withdrawn": aggregate_of(SmsConsent, None, Count("id", filter=Q(withdrawn_at__isnull=False))),
        "opt_outs_changed": aggregate_of(OptOut, None, Max("updated_at")),
        "opt_outs": aggregate_of(OptOut, None, Count("id", filter=Q(opted_out=True))),
        "opt_out_numbers": aggregate_of(OptOut, None, Count("id", filter=~Q(number=""))),
    }


def dashboard_overview(*, conference, marks: dict | None = None) -> dict:
    """`conference_overview` and the over-entitlement alert (as "entitlement_alert"), computed once per change of
    their data (and per minute) and shared through the cache. `marks`: watermark values the page already read
    with other parts (`overview_watermark_parts`), else read here in one query."""
    parts = overview_watermark_parts()
    marks = marks if marks is not None else read_watermark(conference, parts)
    watermark = (
        *(marks[name] for name in parts),
        conference.clp_section_weight,
        conference.affiliate_section_weight,
    )

    def compute():
        return {
            **conference_overview(conference=conference),
            "entitlement_alert": over_entitlement_alert(conference=conference),
        }

    return cached_by_watermark(
        key_prefix=f"overview:{conference.pk}", watermark=watermark, parts=("dashboard-overview",), compute=compute
    )


def conference_overview(*, conference) -> dict:
    """Totals and card-vote bars for one conference. A fixed handful of aggregate queries, whatever the size."""
    is_clp = Q(kind=Organisation.Kind.CLP)
    organisations = Organisation.objects.aggregate(
        clps=Count("pk", filter=is_clp), affiliates=Count("pk", filter=~is_clp)
    )
    delegates_qs = Delegate.objects.for_conference(conference)
    delegates = delegates_qs.aggregate(
        total=Count("pk"),
        attending=Count("pk", filter=Q(is_attending=True)),
        clp_attending=Count("pk", filter=Q(is_attending=True, organisation__kind=Organisation.Kind.CLP)),
        affiliates_attending=Count("pk", filter=Q(is_attending=True) & ~Q(organisation__kind=Organisation.Kind.CLP)),
    )
    # "Can be texted" (consent and not opted out), the same definition as every badge and filter.
    consented = delegates_qs.textable().count()
    # An organisation casts its whole card vote if at least one of its delegates attends.
    represented = Organisation.objects.filter(
        Exists(Delegate.objects.filter(conference=conference, organisation=OuterRef("pk"), is_attending=True))
    )
    votes = represented.aggregate(clp=Sum("membership", filter=is_clp), affiliates=Sum("membership", filter=~is_clp))
    region_delegates = dict(
        delegates_qs.attending()
        .filter(organisation__kind=Organisation.Kind.CLP)
        .values_list("organisation__region")
        .annotate(n=Count("pk"))
        .order_by()
    )
    region_votes = dict(represented.filter(is_clp).values_list("region").annotate(v=Sum("membership")).order_by())

    clp_votes = votes["clp"] or 0
    affiliate_votes = votes["affiliates"] or 0
    return {
        "organisations": organisations,
        "delegates": delegates,
        "consented": consented,
        "consent_percent": _percent(consented, delegates["total"]),
        "region_rows": _bar_rows(
            [(value, value) for value in Region.values],
            region_delegates,
            region_votes,
            vote_total=clp_votes,
            vote_weight=conference.clp_section_weight,
            link=lambda value: reverse("delegate-list") + "?" + urlencode({"region": value}),
        ),
        "section_rows": _bar_rows(
            [(Section.CLP.label, Section.CLP), (Section.AFFILIATES.label, Section.AFFILIATES)],
            {Section.CLP: delegates["clp_attending"], Section.AFFILIATES: delegates["affiliates_attending"]},
            {Section.CLP: clp_votes, Section.AFFILIATES: affiliate_votes},
            vote_total=None,
            vote_weight=None,
            weights={
                Section.CLP: conference.clp_section_weight,
                Section.AFFILIATES: conference.affiliate_section_weight,
            },
            link=lambda value: reverse("delegate-list") + "?" + urlencode({"section": value}),
        ),
    }


def _percent(part, whole) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _bar_rows(keys, delegates, votes, *, vote_total, vote_weight, link, weights=None):
    """Rows for the paired bar chart: each bar scaled to the largest of its kind so shapes compare."""
    max_delegates = max(delegates.values(), default=0) or 1
    max_votes = max((v or 0 for v in votes.values()), default=0) or 1
    rows = []
    for label, value in keys:
        n = delegates.get(value, 0) or 0
        v = votes.get(value, 0) or 0
        row = {
            "label": label,
            "url": link(value),
            "delegates": n,
            "delegates_width": round(100 * n / max_delegates, 1),
            "votes": v,
            "votes_width": round(100 * v / max_votes, 1),
            "vote_share": None,
        }
        if vote_total:
            # Share of the whole conference card vote: the section is normalised to its weight.
            row["vote_share"] = round(vote_weight * v / vote_total, 1)
        if weights:
            # Each section counts for its weight once it has any vote, however many members it has: draw the
            # bar to that normalised share (of the whole conference), not to the raw membership.
            row["vote_share"] = weights[value] if v else 0
            row["votes_width"] = row["vote_share"]
        rows.append(row)
    return rows


def over_entitlement_alert(*, conference) -> dict | None:
    """A dashboard warning when delegations have more delegates than places (one COUNT query), else None."""
    count = Organisation.objects.over_entitlement(conference).count()
    if not count:
        return None
    return {
        "level": "warning",
        "text": f"{count} delegation{'s' if count != 1 else ''} over entitlement: check for substitutes or a "
        "double import before trusting card votes",
        "url": reverse("organisation-list") + "?" + urlencode({"over_entitlement": "true"}),
    }


# --- Subject access (privacy composes these; each returns (title, queryset) pairs) ----------------------------
def delegates_matching(*, mobile: str = "", email: str = ""):
    """Every delegate record, at any conference, with this E.164 mobile or this email (case-insensitive)."""
    query = Q(pk__in=[])
    if mobile:
        query |= Q(mobile=mobile)
    if email:
        query |= Q(email__iexact=email)
    return Delegate.objects.filter(query).select_related("conference", "organisation").order_by("conference", "pk")


def contacts_matching(*, mobile: str = "", email: str = ""):
    """Organisations naming this person as their secretary (by email, or the phone as stored)."""
    query = Q(pk__in=[])
    if mobile:
        query |= Q(secretary_phone=mobile)
    if email:
        query |= Q(secretary_email__iexact=email)
    return Organisation.objects.filter(query).order_by("name")


def personal_data_of_delegate(delegate) -> list[tuple[str, object]]:
    return [
        ("Delegate record", Delegate.objects.filter(pk=delegate.pk)),
        ("Consent to texts", SmsConsent.objects.filter(delegate=delegate).order_by("given_at", "pk")),
    ]
