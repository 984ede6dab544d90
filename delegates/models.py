from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Greatest, Least, Lower
from django.urls import reverse
from django.utils import timezone

from delegates import rules
from messaging.models import OptOut
from messaging.phones import normalise_mobile


class Conference(models.Model):
    """One conference, with its rules held as data: they change from year to year and party to party."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    organiser = models.CharField(max_length=120, default="The Labour Party")
    venue = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    timezone = models.CharField(max_length=60, default="Europe/London")
    is_current = models.BooleanField(
        default=False, help_text="The conference coordinators are working on now; pages show it by default."
    )
    # Motions
    motion_title_max_words = models.PositiveSmallIntegerField(default=10)
    motion_text_max_words = models.PositiveSmallIntegerField(default=250)
    motions_deadline = models.DateTimeField(null=True, blank=True)
    emergency_motions_deadline = models.DateTimeField(null=True, blank=True)
    priorities_per_section = models.PositiveSmallIntegerField(default=6)
    composite_delegates_per_organisation = models.PositiveSmallIntegerField(default=2)
    # Card vote: each section normalised to its weight (percent), then added.
    clp_section_weight = models.PositiveSmallIntegerField(default=50, validators=[MaxValueValidator(100)])
    affiliate_section_weight = models.PositiveSmallIntegerField(default=50, validators=[MaxValueValidator(100)])
    # CLP delegate entitlement (Rule Book C3.I.1.B–C)
    delegate_first_band = models.PositiveIntegerField(default=749, validators=[MinValueValidator(1)])
    delegate_band = models.PositiveIntegerField(default=250, validators=[MinValueValidator(1)])
    delegate_cap = models.PositiveSmallIntegerField(default=6, validators=[MinValueValidator(1)])
    extra_woman_min_women = models.PositiveIntegerField(default=100)
    extra_youth_min_young = models.PositiveIntegerField(default=30)
    # Data protection: personal data of this conference is anonymised this many days after it ends.
    retention_days = models.PositiveSmallIntegerField(
        default=90,
        validators=[MaxValueValidator(3650)],
        help_text="Days after the conference ends before its delegates, stances' notes, texts and volunteers' "
        "contact details are anonymised (a daily task).",
    )

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="conference_ends_after_start"),
            models.CheckConstraint(
                condition=Q(clp_section_weight=Value(100) - F("affiliate_section_weight")),
                name="conference_section_weights_add_to_100",
            ),
            # At most one current conference.
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="one_current_conference"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "A conference cannot end before it starts."
        if (self.clp_section_weight or 0) + (self.affiliate_section_weight or 0) != 100:
            errors["affiliate_section_weight"] = "The two section weights must add up to 100."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls):
        return cls.objects.filter(is_current=True).first() or cls.objects.first()

    def delegate_entitlement(self, organisation: "Organisation") -> int:
        """Base delegate places for a CLP under this conference's rules; affiliates are set by their own rules."""
        if organisation.kind != Organisation.Kind.CLP:
            return 0
        return rules.clp_delegate_entitlement(
            organisation.membership, first_band=self.delegate_first_band, band=self.delegate_band, cap=self.delegate_cap
        )

    def delegate_places(self, organisation: "Organisation") -> int:
        """All the places a CLP may fill: base entitlement plus the additional woman and youth places it earns.

        ``OrganisationQuerySet.with_delegate_places`` computes the same number in SQL (tests hold them equal).
        """
        extra_woman, extra_youth = self.extra_places(organisation)
        return self.delegate_entitlement(organisation) + int(extra_woman) + int(extra_youth)

    def extra_places(self, organisation: "Organisation") -> tuple[bool, bool]:
        if organisation.kind != Organisation.Kind.CLP:
            return False, False
        return rules.extra_places(
            women_members=organisation.women_members,
            young_members=organisation.young_members,
            women_threshold=self.extra_woman_min_women,
            youth_threshold=self.extra_youth_min_young,
        )


class Section(models.TextChoices):
    """Conference sections; each is normalised to its weight in a card vote."""

    CLP = "clp", "Constituency parties"
    AFFILIATES = "affiliates", "Affiliates"


class Nation(models.TextChoices):
    ENGLAND = "England"
    SCOTLAND = "Scotland"
    WALES = "Wales"
    NORTHERN_IRELAND = "Northern Ireland"


class Region(models.TextChoices):
    """ONS regions of England plus the other nations, as Labour organises its regional offices."""

    NORTH_EAST = "North East"
    NORTH_WEST = "North West"
    YORKSHIRE = "Yorkshire and The Humber"
    EAST_MIDLANDS = "East Midlands"
    WEST_MIDLANDS = "West Midlands"
    EAST = "East of England"
    LONDON = "London"
    SOUTH_EAST = "South East"
    SOUTH_WEST = "South West"
    SCOTLAND = "Scotland"
    WALES = "Wales"
    NORTHERN_IRELAND = "Northern Ireland"


def _excluding(queryset, instance):
    """The queryset without the row being edited, for "does another row already have this?" checks."""
    return queryset.exclude(pk=instance.pk) if instance is not None and instance.pk else queryset


def delegate_places_expression(organisation: str, rule):
    """SQL for ``Conference.delegate_places``: base places by membership band (capped) plus earned extras.

    ``organisation`` prefixes the organisation's fields ("" on Organisation, "organisation__" on Delegate);
    ``rule(name)`` gives a conference rule as an expression (a literal, or F("conference__…") per row).
    ceil((members - first_band) / band) is done in integer arithmetic, so PostgreSQL and SQLite agree.
    """
    membership = F(f"{organisation}membership")
    further_bands = (Greatest(membership - rule("delegate_first_band"), Value(0)) + rule("delegate_band") - 1) / rule(
        "delegate_band"
    )
    base = models.Case(
        models.When(Q(**{f"{organisation}membership__lte": 0}), then=Value(0)),
        default=Least(rule("delegate_cap"), Value(1) + further_bands),
    )
    extra_woman = models.Case(
        models.When(Q(**{f"{organisation}women_members__gte": rule("extra_woman_min_women")}), then=Value(1)),
        default=Value(0),
    )
    extra_youth = models.Case(
        models.When(Q(**{f"{organisation}young_members__gte": rule("extra_youth_min_young")}), then=Value(1)),
        default=Value(0),
    )
    return models.Case(
        models.When(Q(**{f"{organisation}kind": "clp"}), then=base + extra_woman + extra_youth),
        default=Value(0),
        output_field=models.IntegerField(),
    )


class OrganisationQuerySet(models.QuerySet):
    def in_section(self, section: str):
        if section == Section.CLP:
            return self.filter(kind=Organisation.Kind.CLP)
        if section == Section.AFFILIATES:
            return self.exclude(kind=Organisation.Kind.CLP)
        return self.none()

    def search(self, text: str):
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(Q(name__icontains=text) | Q(short_name__icontains=text) | Q(gss_code__iexact=text))

    def named(self, name: str, *, excluding=None):
        """Organisations whose name matches ignoring case (the database refuses such twins), bar ``excluding``."""
        return _excluding(self.filter(name__iexact=name), excluding)

    def with_gss_code(self, code: str, *, excluding=None):
        return _excluding(self.filter(gss_code=code), excluding)

    def with_delegate_count(self, conference):
        return self.annotate(
            delegate_count=Count("delegates", filter=Q(delegates__conference=conference), distinct=True)
        )

    def with_delegate_places(self, conference):
        """Annotate ``delegate_count``, ``delegate_places`` and ``over_entitlement`` for one conference.

        ``delegate_places`` mirrors ``Conference.delegate_places`` (base places by membership band, capped, plus
        the additional woman and youth places); affiliates follow their own rules, so they are never over.
        ``over_entitlement``: more delegates registered than places (substitutes, a double import), which
        would silently dilute each delegate's card vote. The delegate count is a correlated subquery, so
        this adds no query and stays flat however many rows.
        """
        registered = (
            Delegate.objects.filter(conference=conference, organisation=OuterRef("pk"))
            .order_by()
            .values("organisation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        places = delegate_places_expression("", lambda rule: Value(getattr(conference, rule)))
        return self.annotate(
            delegate_count=Coalesce(Subquery(registered, output_field=models.IntegerField()), Value(0)),
            delegate_places=places,
        ).annotate(
            over_entitlement=models.ExpressionWrapper(
                Q(kind=Organisation.Kind.CLP, delegate_count__gt=F("delegate_places")),
                output_field=models.BooleanField(),
            )
        )

    def over_entitlement(self, conference):
        """CLPs with more delegates registered at ``conference`` than their places."""
        return self.with_delegate_places(conference).filter(over_entitlement=True)


class Organisation(models.Model):
    """A CLP or an affiliate (union, socialist society). Lives across conferences; delegates are per conference."""

    class Kind(models.TextChoices):
        CLP = "clp", "CLP"
        TRADE_UNION = "trade_union", "Trade union"
        SOCIALIST_SOCIETY = "socialist_society", "Socialist society"
        OTHER_AFFILIATE = "other_affiliate", "Other affiliate"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True, help_text="e.g. CWU, SERA")
    gss_code = models.CharField(
        "GSS code", max_length=9, blank=True, help_text="ONS code of the constituency (CLPs only), e.g. E14001234."
    )
    region = models.CharField(max_length=40, choices=Region.choices, blank=True)
    nation = models.CharField(max_length=20, choices=Nation.choices, blank=True)
    membership = models.PositiveIntegerField(
        default=0, help_text="Individual members (CLP, at 31 December) or affiliated members (affiliate)."
    )
    women_members = models.PositiveIntegerField(default=0)
    young_members = models.PositiveIntegerField(default=0, help_text="Young Labour members (under 27).")
    secretary_name = models.CharField(max_length=200, blank=True)
    secretary_email = models.EmailField(blank=True)
    secretary_phone = models.CharField(max_length=20, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organisation_name_unique_ci"),
            models.UniqueConstraint(fields=["gss_code"], condition=~Q(gss_code=""), name="organisation_gss_unique"),
        ]
        indexes = [
            # The organisation list filters by kind and region, then orders by name.
            models.Index(fields=["kind", "region", "name"], name="org_kind_region_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("organisation-detail", args=[self.pk])

    @property
    def section(self) -> str:
        return Section.CLP if self.kind == self.Kind.CLP else Section.AFFILIATES

    def get_section_display(self) -> str:
        return Section(self.section).label

    def clean(self):
        errors = {}
        if self.kind == self.Kind.CLP:
            if not self.region:
                errors["region"] = "A CLP needs its region."
        else:
            if self.gss_code:
                errors["gss_code"] = "Only CLPs have a constituency code."
        if self.women_members > self.membership:
            errors["women_members"] = "Cannot be more than the membership."
        if self.young_members > self.membership:
            errors["young_members"] = "Cannot be more than the membership."
        if self.region and not self.nation:
            self.nation = nation_of_region(self.region)
        if errors:
            raise ValidationError(errors)


def nation_of_region(region: str) -> str:
    if region in (Region.SCOTLAND, Region.WALES, Region.NORTHERN_IRELAND):
        return region
    return Nation.ENGLAND if region else ""


class DelegateQuerySet(models.QuerySet):
    def for_conference(self, conference):
        return self.filter(conference=conference)

    def attending(self):
        return self.filter(is_attending=True)

    def in_section(self, section: str):
        if section == Section.CLP:
            return self.filter(organisation__kind=Organisation.Kind.CLP)
        if section == Section.AFFILIATES:
            return self.exclude(organisation__kind=Organisation.Kind.CLP)
        return self.none()

    def search(self, text: str):
        text = (text or "").strip()
        if not text:
            return self
        query = Q()
        for word in text.split()[:5]:
            query &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(organisation__name__icontains=word)
                | Q(email__icontains=word)
            )
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) >= 6:
            query |= Q(mobile__contains=digits.lstrip("0"))
        return self.filter(query)

    def holding_mobile(self, conference, mobile: str, *, excluding=None):
        """Delegates at ``conference`` with this E.164 mobile, other than ``excluding`` (the one being edited).

        The one check behind the form, API, admin and import messages for the unique (conference, mobile) pair.
        """
        return _excluding(self.filter(conference=conference, mobile=mobile), excluding)

    def with_sms_consent(self):
        """Annotate ``has_sms_consent``: a live consent record exists. Not enough to text: see with_can_be_texted."""
        return self.annotate(
            has_sms_consent=Exists(SmsConsent.objects.filter(delegate=OuterRef("pk"), withdrawn_at__isnull=True))
        )

    def with_can_be_texted(self):
        """Annotate the one definition of "can be texted", and the two facts it is made of.

        ``has_sms_consent`` (a live consent record), ``is_opted_out`` (the mobile is on messaging's opt-out
        list: a STOP beats any consent on record until the person texts START) and ``can_be_texted`` (a mobile,
        live consent and not opted out). The opt-out list is matched by number only: no hash key reaches SQL. An
        erased person's opt-out keeps only its keyed hash, and a record holding that number again (a re-import,
        a sign-up) puts the number back on the row (messaging.services.relink_opt_outs, from every writer of a
        mobile, and privacy.tasks.relink_opt_outs every few minutes for any writer missed). The send paths match
        the hash as well, so nobody is texted meanwhile. Correlated subqueries, so the query count does not grow
        with the rows. Every badge, count, filter, export and audience of campaign texts reads ``can_be_texted``.
        """
        opted_out = Exists(OptOut.objects.filter(number=OuterRef("mobile"), opted_out=True))
        return (
            self.with_sms_consent()
            .annotate(is_opted_out=models.Case(models.When(mobile="", then=Value(False)), default=opted_out))
            .annotate(
                can_be_texted=models.ExpressionWrapper(
                    Q(has_sms_consent=True) & Q(is_opted_out=False) & ~Q(mobile=""),
                    output_field=models.BooleanField(),
                )
            )
        )

    def textable(self):
        """Delegates campaign texts may go to: a mobile, live consent (PECR) and not opted out.

        The audience of any briefing or whip text; ``not_textable()`` is its complement.
        """
        return self.with_can_be_texted().filter(can_be_texted=True)

    def not_textable(self):
        return self.with_can_be_texted().filter(can_be_texted=False)

    def with_card_vote(self):
        """Annotate ``card_vote``: the organisation's membership split equally among its attending delegates.

        One correlated subquery, so the count of queries does not grow with the list.
        """
        attending_in_delegation = (
            Delegate.objects.filter(
                conference=OuterRef("conference"), organisation=OuterRef("organisation"), is_attending=True
            )
            .order_by()
            .values("organisation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(delegation_attending=Coalesce(Subquery(attending_in_delegation), Value(0))).annotate(
            card_vote=models.Case(
                models.When(
                    is_attending=True,
                    delegation_attending__gt=0,
                    then=Cast("organisation__membership", FloatField()) / Cast("delegation_attending", FloatField()),
                ),
                default=Value(0.0),
                output_field=FloatField(),
            )
        )

    def with_delegation_places(self):
        """Annotate ``delegation_size`` (registered at the delegate's conference), ``delegation_places`` and
        ``delegation_over_entitlement``, so a diluted card vote is never shown without its warning."""
        registered = (
            Delegate.objects.filter(conference=OuterRef("conference"), organisation=OuterRef("organisation"))
            .order_by()
            .values("organisation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        places = delegate_places_expression(
            # The rules are small and plain integers: one output type keeps Django's arithmetic unambiguous.
            "organisation__",
            lambda rule: models.ExpressionWrapper(F(f"conference__{rule}"), output_field=models.IntegerField()),
        )
        return self.annotate(
            delegation_size=Coalesce(Subquery(registered, output_field=models.IntegerField()), Value(0)),
            delegation_places=places,
        ).annotate(
            delegation_over_entitlement=models.ExpressionWrapper(
                Q(organisation__kind=Organisation.Kind.CLP, delegation_size__gt=F("delegation_places")),
                output_field=models.BooleanField(),
            )
        )

    def for_list(self):
        return (
            self.select_related("organisation", "conference")
            .with_can_be_texted()
            .with_card_vote()
            .with_delegation_places()
        )


# How an erased delegate is shown wherever a name would be.
ERASED_LABEL = "(name erased)"


class Delegate(models.Model):
    class Gender(models.TextChoices):
        WOMAN = "woman", "Woman"
        MAN = "man", "Man"
        NON_BINARY = "non_binary", "Non-binary"
        NOT_STATED = "not_stated", "Not stated"

    class SeatType(models.TextChoices):
        ORDINARY = "ordinary", "Ordinary"
        ADDITIONAL_WOMAN = "additional_woman", "Additional woman"
        YOUTH = "youth", "Youth (under 27)"

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="delegates")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="delegates")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    gender = models.CharField(max_length=12, choices=Gender.choices, default=Gender.NOT_STATED)
    seat_type = models.CharField(max_length=20, choices=SeatType.choices, default=SeatType.ORDINARY)
    is_attending = models.BooleanField(
        default=True, help_text="Delegates who do not attend carry no card vote; the rest of the delegation shares it."
    )
    mobile = models.CharField(max_length=16, blank=True, help_text="Stored in E.164, e.g. +447911123456.")
    email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    # Set when the person's data is erased (on request or by retention): the row stays for the card vote.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DelegateQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            # Re-importing a spreadsheet upserts on this pair, so it must be unique.
            models.UniqueConstraint(
                fields=["conference", "mobile"], condition=~Q(mobile=""), name="delegate_mobile_unique_per_conference"
            ),
        ]
        indexes = [
            # The delegate list: one conference, ordered by name.
            models.Index(fields=["conference", "last_name", "first_name"], name="delegate_conf_name"),
            # Card-vote subquery: attending delegates of one organisation at one conference.
            models.Index(fields=["organisation", "conference", "is_attending"], name="delegate_org_conf_attending"),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("delegate-detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        # Names are required everywhere they are entered, so blank ones mean the person was erased.
        return f"{self.first_name} {self.last_name}".strip() or ERASED_LABEL

    def clean(self):
        if self.mobile:
            try:
                self.mobile = normalise_mobile(self.mobile)
            except ValidationError as exc:
                raise ValidationError({"mobile": exc.messages}) from None
        if self.seat_type == self.SeatType.ADDITIONAL_WOMAN and self.gender not in ("", self.Gender.WOMAN):
            raise ValidationError({"seat_type": "The additional woman place is for a woman delegate."})

    def current_sms_consent(self):
        return self.sms_consents.filter(withdrawn_at__isnull=True).order_by("-given_at").first()


class SmsConsent(models.Model):
    """PECR: texts urging a vote need prior consent. Records when, how, and the wording the person saw."""

    class Method(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        PAPER_FORM = "paper_form", "Paper form"
        IN_PERSON = "in_person", "In person (verbal)"
        TEXT_MESSAGE = "text_message", "Text message (replied START)"
        IMPORT = "import", "Imported spreadsheet"

    delegate = models.ForeignKey(Delegate, on_delete=models.CASCADE, related_name="sms_consents")
    given_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=20, choices=Method.choices)
    wording = models.TextField(help_text="What the person was told they were agreeing to, word for word.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where it came from: the imported file or list, the paper form's reference.",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-given_at"]
        verbose_name = "SMS consent"
        constraints = [
            # One live consent per delegate; older ones are kept, withdrawn, as history.
            models.UniqueConstraint(
                fields=["delegate"], condition=Q(withdrawn_at__isnull=True), name="one_live_sms_consent"
            ),
        ]

    def __str__(self):
        state = "withdrawn" if self.withdrawn_at else "given"
        return f"SMS consent {state} ({self.get_method_display()})"


class ImportKind(models.TextChoices):
    DELEGATES = "delegates", "Delegates"
    ORGANISATIONS = "organisations", "Organisations"


class ImportColumnMapping(models.Model):
    """A spreadsheet heading a coordinator mapped to a field on the import page, remembered for the next file.

    ``heading`` is the heading simplified (lower case, words only: "Mobile No." is "mobile no"); an empty
    ``field`` means "ignore this column".
    """

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    heading = models.CharField(max_length=200)
    field = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "heading"], name="import_mapping_unique_heading")]

    def __str__(self):
        return f"{self.kind}: “{self.heading}” → {self.field or 'ignored'}"


class PendingImport(models.Model):
    """An uploaded file between its preview and the coordinator's confirm or cancel.

    Held in the database, not the cache, so a preview survives a Redis outage and any web process or worker
    can pick it up. Deleted on confirm or cancel; ``delegates.tasks.purge_stale_imports`` removes forgotten ones.
    """

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking the file"
        READY = "ready", "Checked"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"

    token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    conference = models.ForeignKey(Conference, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255, blank=True)
    data = models.BinaryField()
    mapping = models.JSONField(default=dict, blank=True, help_text="Columns chosen on the preview page.")
    skip_bad_rows = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CHECKING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The purge task deletes by age.
            models.Index(fields=["updated_at"], name="pending_import_updated"),
        ]

    def __str__(self):
        return f"Pending {self.kind} import {self.pk} ({self.status})"
