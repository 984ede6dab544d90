"""Import delegates and organisations from CSV, and export them back, with django-import-export.

The rules (the README repeats them):

* **All or nothing.** A file with any bad row imports nothing. The report lists every bad row with its
  line number in the file (the header is line 1) and the reason: a bad or non-mobile phone number, an
  unknown organisation, a missing name, a value that is not one of the allowed choices, a mobile that
  appears twice in the file. Fix the file and import it again. Everything runs in one transaction, so
  nothing is ever half-written.
* **Re-importing changes nothing.** Delegates are matched within the conference by mobile; a row
  without a mobile (or whose mobile is new) matches a delegate of the same organisation with the same
  first and last name (case-insensitive). Organisations are matched by GSS code, then by name
  (case-insensitive). The report says "N new, N updated, N unchanged".
* **The file is the truth for the columns it has.** A column left out of the file leaves that field
  alone; a blank cell sets the field blank (or to its default: gender "not_stated", seat type
  "ordinary", attending "yes"). SMS consent is only ever added from a file, never withdrawn: a row with
  ``sms_consent_wording`` records consent (method ``sms_consent_method``, default "import") unless the
  delegate's live consent already says the same.
* **Whole-file problems** are reported before any row is read: a file larger than
  ``settings.IMPORT_MAX_BYTES``, an empty file, a file that is not UTF-8 (UTF-8 with a BOM, as Excel's
  "CSV UTF-8" writes it, is fine), a spreadsheet uploaded instead of a CSV, and missing or unknown
  column headers (headers are matched ignoring case, spaces and hyphens: "First name" is first_name).

The admin, the coordinator page /import/ and the management commands all go through the same
resources; the page and the commands through :func:`import_delegates` / :func:`import_organisations`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import secrets
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from import_export import fields, resources, widgets

from config import audit
from config.csv_export import strip_neutraliser
from delegates import services
from delegates.models import (
    Conference,
    Delegate,
    ImportColumnMapping,
    Organisation,
    PendingImport,
    Region,
    SmsConsent,
    nation_of_region,
)
from messaging.phones import mobile_warning, normalise_mobile
from messaging.services import relink_opt_outs

DELEGATE_COLUMNS = ("first_name", "last_name", "organisation", "gender", "seat_type", "mobile", "email", "is_attending")
DELEGATE_REQUIRED = ("first_name", "last_name", "organisation")
DELEGATE_OPTIONAL = ("sms_consent_method", "sms_consent_wording")
ORGANISATION_COLUMNS = (
    "name",
    "kind",
    "region",
    "membership",
    "women_members",
    "young_members",
    "gss_code",
    "secretary_name",
    "secretary_email",
)
ORGANISATION_REQUIRED = ("name", "kind")
ORGANISATION_OPTIONAL = ("short_name", "secretary_phone")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message tells a coordinator what to do about it."""


# --- Widgets: turn a cell into a value or raise ValueError with a message a person understands ----------


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row, **kwargs).strip()


class ChoiceWidget(widgets.Widget):
    """Accepts a choice's value or its label, ignoring case, spaces and hyphens ("Trade union" = trade_union)."""

    def __init__(self, choices, *, default="", noun="value", aliases=None):
        super().__init__()
        self.choices = list(choices)
        self.default = default
        self.noun = noun
        self.lookup = {}
        for value, label in self.choices:
            self.lookup[_simplify(value)] = value
            self.lookup[_simplify(label)] = value
        for alias, value in (aliases or {}).items():
            self.lookup[_simplify(alias)] = value

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        if not text:
            return self.default
        try:
            return self.lookup[_simplify(text)]
        except KeyError:
            allowed = ", ".join(v for v, _ in self.choices)
            raise ValueError(f"“{text}” is not a {self.noun}: use one of {allowed}.") from None


class YesNoWidget(widgets.Widget):
    TRUE = {"yes", "y", "true", "t", "1", "attending"}
    FALSE = {"no", "n", "false", "f", "0", "not attending"}

    def __init__(self, *, default=True):
        super().__init__()
        self.default = default

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip().lower()
        if not text:
            return self.default
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"“{value}” is not yes or no.")

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class MobileWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        if not text:
            return ""
        try:
            return normalise_mobile(text)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None


class CountWidget(widgets.Widget):
    """A whole number of members; accepts "1,234" as spreadsheets format it; blank is 0."""

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip().replace(",", "").replace(" ", "")
        if not text:
            return 0
        if not text.isdigit():
            raise ValueError(f"“{value}” is not a whole number.")
        return int(text)


class OrganisationWidget(widgets.Widget):
    """Finds the organisation by name (ignoring case) or GSS code, from a map the resource loads once."""

    def __init__(self):
        super().__init__()
        self.by_key: dict[str, Organisation] | None = None

    def load(self):
        self.by_key = {}
        fields = ("id", "name", "gss_code", "kind", "membership", "women_members", "young_members")
        for organisation in Organisation.objects.only(*fields):
            self.by_key[organisation.name.casefold()] = organisation
            if organisation.gss_code:
                self.by_key[organisation.gss_code.casefold()] = organisation

    def clean(self, value, row=None, **kwargs):
        text = " ".join(str(value if value is not None else "").split())
        if not text:
            raise ValueError("Missing organisation.")
        if self.by_key is None:
            self.load()
        found = self.by_key.get(text.casefold())
        if found is None:
            hint = difflib.get_close_matches(text.casefold(), self.by_key.keys(), n=1, cutoff=0.8)
            suggestion = f" Did you mean “{self.by_key[hint[0]].name}”?" if hint else ""
            raise ValueError(f"No organisation called “{text}”.{suggestion}")
        return found

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


def header_problem(headers: list[str], spec: ImportSpec) -> str | None:
    """For the admin's import: required columns missing, or a field given twice."""
    missing = [c for c in spec.required if c not in headers]
    duplicated = sorted({h for h in headers if h in spec.fields and headers.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    if duplicated:
        problems.append(f"Column{'s' if len(duplicated) > 1 else ''} given twice: {', '.join(duplicated)}.")
    if problems:
        problems.append(f"The columns are: {', '.join(spec.fields)} (the first row of the file names them).")
        return " ".join(problems)
    return None


def _simplify(text) -> str:
    return re.sub(r"[\s_\-]+", "_", str(text).strip().casefold())


CONSENT_METHOD = ChoiceWidget(SmsConsent.Method.choices, default=SmsConsent.Method.IMPORT, noun="method")


def wanted_consent(row) -> tuple[str, str] | None:
    """(method, wording) a row asks to record, or None. Raises ValueError for a bad method."""
    wording = " ".join(str(row.get("sms_consent_wording") or "").split())
    method = CONSENT_METHOD.clean(row.get("sms_consent_method"))
    if not wording:
        if str(row.get("sms_consent_method") or "").strip():
            raise ValueError("SMS consent needs sms_consent_wording: what the person agreed to, word for word.")
        return None
    return method, wording


# --- Resources ------------------------------------------------------------------------------------------


class CardvoteResource(resources.ModelResource):
    """Shared behaviour: all-or-nothing imports, headers matched loosely, bad headers refused."""

    import_kind = ""  # a key of SPECS: which headings and aliases this resource reads

    def __init__(self, *, lines: list[int] | None = None, **kwargs):
        super().__init__(**kwargs)
        # File line of each data row (blank lines and multi-line cells make it differ from row + 1).
        self.lines = lines

    def line_of(self, row_number: int) -> int:
        if self.lines and 0 < row_number <= len(self.lines):
            return self.lines[row_number - 1]
        return row_number + 1

    def import_data(self, dataset, **kwargs):
        # A file with any bad row writes nothing, wherever the import comes from (admin, page, command).
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, **kwargs)

    def before_import(self, dataset, **kwargs):
        spec = SPECS[self.import_kind]
        dataset.headers = [normalise_header(strip_neutraliser(str(h or "")), spec) for h in dataset.headers or []]
        problem = header_problem(dataset.headers, spec)
        if problem:
            # Leave no rows to import, so the report is the one clear message, not one error per row.
            del dataset[0 : len(dataset)]
            raise ImportFileError(problem)
        for column in [h for h in dataset.headers if h not in spec.fields]:
            del dataset[column]  # extra columns (and our export's derived ones) are ignored
        # Our exports put an apostrophe before formula-like cells ("'+447…"); take it off again.
        rows = [[strip_neutraliser(c) if isinstance(c, str) else c for c in row] for row in dataset]
        headers = dataset.headers
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append(row)
        self._seen: dict[tuple, int] = {}

    def first_seen(self, key: tuple, row_number: int) -> int | None:
        """Line of an earlier row in this file with the same key, else None (and remember this one)."""
        earlier = self._seen.get(key)
        if earlier is None:
            self._seen[key] = self.line_of(row_number)
        return earlier

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if instance.pk is None:
            return False
        return super().skip_row(instance, original, row, import_validation_errors)


class OrganisationResource(CardvoteResource):
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    kind = fields.Field(
        attribute="kind",
        column_name="kind",
        widget=ChoiceWidget(
            Organisation.Kind.choices, noun="kind", aliases={"union": "trade_union", "society": "socialist_society"}
        ),
    )
    region = fields.Field(attribute="region", column_name="region", widget=ChoiceWidget(Region.choices, noun="region"))
    membership = fields.Field(attribute="membership", column_name="membership", widget=CountWidget())
    women_members = fields.Field(attribute="women_members", column_name="women_members", widget=CountWidget())
    young_members = fields.Field(attribute="young_members", column_name="young_members", widget=CountWidget())
    gss_code = fields.Field(attribute="gss_code", column_name="gss_code", widget=TextWidget())
    secretary_name = fields.Field(attribute="secretary_name", column_name="secretary_name", widget=TextWidget())
    secretary_email = fields.Field(attribute="secretary_email", column_name="secretary_email", widget=TextWidget())
    short_name = fields.Field(attribute="short_name", column_name="short_name", widget=TextWidget())
    secretary_phone = fields.Field(attribute="secretary_phone", column_name="secretary_phone", widget=TextWidget())

    import_kind = "organisations"

    class Meta:
        model = Organisation
        fields = (*ORGANISATION_COLUMNS, *ORGANISATION_OPTIONAL)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._existing: dict[str, Organisation] = {}
        for organisation in Organisation.objects.all():
            self._existing[organisation.name.casefold()] = organisation
            if organisation.gss_code:
                self._existing[organisation.gss_code.casefold()] = organisation

    def get_instance(self, instance_loader, row):
        gss = " ".join(str(row.get("gss_code") or "").split()).casefold()
        name = " ".join(str(row.get("name") or "").split()).casefold()
        found = (gss and self._existing.get(gss)) or (name and self._existing.get(name))
        # A fresh copy each time: a rejected row must not leave its changes on a shared instance.
        return Organisation.objects.get(pk=found.pk) if found else None

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        row_number = kwargs.get("row_number", 0)
        instance.name = " ".join(instance.name.split())
        instance.gss_code = instance.gss_code.upper()
        if "name" not in errors:
            if not instance.name:
                errors["name"] = ["Missing name."]
            else:
                earlier = self.first_seen(("name", instance.name.casefold()), row_number)
                if earlier:
                    errors["name"] = [f"The same organisation is on line {earlier}."]
        if instance.gss_code and "gss_code" not in errors:
            earlier = self.first_seen(("gss", instance.gss_code), row_number)
            if earlier:
                errors["gss_code"] = [f"The same GSS code is on line {earlier}."]
        if "region" in row:
            instance.nation = nation_of_region(instance.region)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        clash = (
            Organisation.objects.filter(name__iexact=instance.name).exclude(pk=instance.pk).exists()
            if instance.name and "name" not in errors
            else False
        )
        if clash:
            errors["name"] = ["Another organisation already has this name."]
        super().validate_instance(instance, errors, validate_unique)


class DelegateResource(CardvoteResource):
    first_name = fields.Field(attribute="first_name", column_name="first_name", widget=TextWidget())
    last_name = fields.Field(attribute="last_name", column_name="last_name", widget=TextWidget())
    organisation = fields.Field(attribute="organisation", column_name="organisation", widget=OrganisationWidget())
    gender = fields.Field(
        attribute="gender",
        column_name="gender",
        widget=ChoiceWidget(
            Delegate.Gender.choices,
            default=Delegate.Gender.NOT_STATED,
            noun="gender",
            aliases={"f": "woman", "female": "woman", "m": "man", "male": "man"},
        ),
    )
    seat_type = fields.Field(
        attribute="seat_type",
        column_name="seat_type",
        widget=ChoiceWidget(
            Delegate.SeatType.choices,
            default=Delegate.SeatType.ORDINARY,
            noun="seat type",
            aliases={"woman": "additional_woman", "additional woman": "additional_woman"},
        ),
    )
    mobile = fields.Field(attribute="mobile", column_name="mobile", widget=MobileWidget())
    email = fields.Field(attribute="email", column_name="email", widget=TextWidget())
    is_attending = fields.Field(attribute="is_attending", column_name="is_attending", widget=YesNoWidget())
    # Not model fields: consent is recorded through delegates.services after the delegate is saved.
    sms_consent_method = fields.Field(column_name="sms_consent_method", dehydrate_method="export_consent_method")
    sms_consent_wording = fields.Field(column_name="sms_consent_wording", dehydrate_method="export_consent_wording")

    import_kind = "delegates"

    class Meta:
        model = Delegate
        fields = (*DELEGATE_COLUMNS, *DELEGATE_OPTIONAL)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True

    def __init__(self, *, conference: Conference | None = None, **kwargs):
        super().__init__(**kwargs)
        self.conference = conference

    def get_queryset(self):
        return Delegate.objects.filter(conference=self.conference).select_related("organisation")

    def before_import(self, dataset, **kwargs):
        if self.conference is None:
            raise ImportFileError("There is no conference to import delegates into: create one first.")
        super().before_import(dataset, **kwargs)
        self.fields["organisation"].widget.load()
        self._by_mobile: dict[str, int] = {}
        self._by_name: dict[tuple, int] = {}
        for pk, mobile, org_id, first, last in self.get_queryset().values_list(
            "pk", "mobile", "organisation_id", "first_name", "last_name"
        ):
            if mobile:
                self._by_mobile[mobile] = pk
            self._by_name.setdefault((org_id, first.casefold(), last.casefold(), bool(mobile)), pk)
        self._live_consents = {
            c.delegate_id: (c.method, c.wording)
            for c in SmsConsent.objects.filter(delegate__conference=self.conference, withdrawn_at__isnull=True)
        }
        self._saved: list[int] = []

    def init_instance(self, row=None):
        return Delegate(conference=self.conference)

    def get_instance(self, instance_loader, row):
        """By mobile; else by organisation and name (only delegates without a mobile, if the row has one)."""
        try:
            mobile = MobileWidget().clean(row.get("mobile"))
        except ValueError:
            mobile = ""
        try:
            organisation = self.fields["organisation"].widget.clean(row.get("organisation"))
        except ValueError:
            organisation = None
        pk = self._by_mobile.get(mobile) if mobile else None
        if pk is None and organisation is not None:
            first = " ".join(str(row.get("first_name") or "").split()).casefold()
            last = " ".join(str(row.get("last_name") or "").split()).casefold()
            pk = self._by_name.get((organisation.pk, first, last, False))
            if pk is None and not mobile:
                pk = self._by_name.get((organisation.pk, first, last, True))
        # A fresh copy each time: a rejected row must not leave its changes on a shared instance.
        return self.get_queryset().get(pk=pk) if pk else None

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        row_number = kwargs.get("row_number", 0)
        for name, label in (("first_name", "first name"), ("last_name", "last name")):
            if name not in errors and not getattr(instance, name):
                errors[name] = [f"Missing {label}."]
        if instance.mobile and "mobile" not in errors:
            earlier = self.first_seen(("mobile", instance.mobile), row_number)
            if earlier:
                errors["mobile"] = [f"The same mobile is on line {earlier}."]
        elif not instance.mobile and not errors:
            key = ("name", instance.organisation_id, instance.first_name.casefold(), instance.last_name.casefold())
            earlier = self.first_seen(key, row_number)
            if earlier:
                errors[NON_FIELD_ERRORS] = [f"The same delegate (organisation and name) is on line {earlier}."]
        try:
            self.wanted_consent(row)
        except ValueError as exc:
            errors["sms_consent_method"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        mobile = instance.mobile
        if (
            mobile
            and "mobile" not in errors
            and Delegate.objects.holding_mobile(self.conference, mobile, excluding=instance).exists()
        ):
            errors["mobile"] = ["Another delegate at this conference already has this mobile."]
        # The unique constraint is checked just above with a clearer message.
        super().validate_instance(instance, errors, validate_unique=False)

    def wanted_consent(self, row) -> tuple[str, str] | None:
        return wanted_consent(row)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if instance.pk and self.consent_changes(instance, row):
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def consent_changes(self, instance, row) -> bool:
        wanted = self.wanted_consent(row)
        return wanted is not None and self._live_consents.get(instance.pk) != wanted

    def after_save_instance(self, instance, row, **kwargs):
        self._saved.append(instance.pk)
        if self.consent_changes(instance, row):
            method, wording = self.wanted_consent(row)
            user = kwargs.get("user")
            services.record_sms_consent(
                delegate=instance,
                method=method,
                wording=wording,
                recorded_by=user if getattr(user, "is_authenticated", False) else None,
                source="imported in the admin",
            )
            self._live_consents[instance.pk] = (method, wording)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        # Once for the file, in its transaction. Read back, not remembered: a row rolled back keeps its old mobile.
        mobiles = Delegate.objects.filter(pk__in=self._saved).exclude(mobile="").values_list("mobile", flat=True)
        relink_opt_outs(numbers=list(mobiles), via="delegate import (admin)")

    # Export: the live consent, prefetched, so an exported file imports back unchanged.
    def filter_export(self, queryset, **kwargs):
        live = SmsConsent.objects.filter(withdrawn_at__isnull=True)
        return queryset.select_related("organisation").prefetch_related(
            Prefetch("sms_consents", queryset=live, to_attr="live_consents")
        )

    def _live_consent(self, delegate):
        live = getattr(delegate, "live_consents", None)
        if live is None:
            live = list(delegate.sms_consents.filter(withdrawn_at__isnull=True))
        return live[0] if live else None

    def export_consent_method(self, delegate):
        consent = self._live_consent(delegate)
        return consent.method if consent else ""

    def export_consent_wording(self, delegate):
        consent = self._live_consent(delegate)
        return consent.wording if consent else ""


# --- Columns: the headings parties and unions actually send ---------------------------------------------

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "organisation": "Organisation (CLP or affiliate)",
    "gender": "Gender",
    "seat_type": "Seat type",
    "mobile": "Mobile",
    "email": "Email",
    "is_attending": "Attending",
    "sms_consent_method": "SMS consent: how given",
    "sms_consent_wording": "SMS consent: wording agreed to",
    "name": "Name",
    "kind": "Kind (CLP, union, society)",
    "region": "Region",
    "membership": "Members",
    "women_members": "Women members",
    "young_members": "Young members",
    "gss_code": "GSS code",
    "secretary_name": "Secretary's name",
    "secretary_email": "Secretary's email",
    "short_name": "Short name",
    "secretary_phone": "Secretary's phone",
}

# Headings as parties send them, simplified by heading_key() (lower case, words only).
DELEGATE_ALIASES = {
    "first_name": ("first name", "firstname", "forename", "forenames", "given name", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "second name", "last"),
    "organisation": (
        "organisation",
        "organization",
        "organisation name",
        "clp",
        "clp name",
        "constituency",
        "constituency party",
        "constituency labour party",
        "union",
        "affiliate",
        "affiliate name",
        "delegation",
    ),
    "mobile": (
        "mobile",
        "mobile number",
        "mobile no",
        "mobile phone",
        "mobile phone number",
        "phone",
        "phone number",
        "phone no",
        "telephone",
        "telephone number",
        "tel",
        "tel no",
        "cell",
    ),
    "email": ("email", "e mail", "email address", "e mail address"),
    "gender": ("gender", "sex"),
    "seat_type": ("seat type", "seat", "place", "delegate type", "place type"),
    "is_attending": ("is attending", "attending", "attendance", "attends"),
    "sms_consent_method": ("sms consent method", "consent method"),
    "sms_consent_wording": ("sms consent wording", "consent wording", "consent"),
}
ORGANISATION_ALIASES = {
    "name": ("name", "organisation", "organisation name", "organization", "clp", "constituency", "affiliate"),
    "kind": ("kind", "type", "organisation type", "category"),
    "region": ("region", "labour region", "english region"),
    "membership": ("membership", "members", "member count", "affiliated members", "affiliated membership"),
    "women_members": ("women members", "women", "female members"),
    "young_members": ("young members", "youth members", "young labour members", "under 27"),
    "gss_code": ("gss code", "gss", "ons code", "constituency code", "pcon code", "pcon24cd"),
    "secretary_name": ("secretary name", "secretary", "clp secretary"),
    "secretary_email": ("secretary email", "secretary e mail", "secretary email address"),
    "short_name": ("short name", "abbreviation", "acronym"),
    "secretary_phone": ("secretary phone", "secretary telephone", "secretary mobile"),
}


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    noun: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    aliases: dict
    # Derived columns our own export adds: dropped without being listed as unknown.
    derived: tuple[str, ...] = ()

    def alias_map(self) -> dict[str, str]:
        found = {heading_key(f): f for f in self.fields}
        for name, aliases in self.aliases.items():
            for alias in aliases:
                found.setdefault(heading_key(alias), name)
        return found

    def choices(self) -> list[tuple[str, str]]:
        return [("", "Ignore this column")] + [(f, FIELD_LABELS.get(f, f)) for f in self.fields]


SPECS = {
    "delegates": ImportSpec(
        "delegates",
        "delegate",
        DELEGATE_COLUMNS + DELEGATE_OPTIONAL,
        DELEGATE_REQUIRED,
        DELEGATE_ALIASES,
        derived=("card vote", "sms consent"),
    ),
    "organisations": ImportSpec(
        "organisations",
        "organisation",
        ORGANISATION_COLUMNS + ORGANISATION_OPTIONAL,
        ORGANISATION_REQUIRED,
        ORGANISATION_ALIASES,
    ),
}


def heading_key(heading) -> str:
    """A heading reduced to its words: "E-mail address" and "email_address " are both "e mail address"."""
    return " ".join(re.findall(r"[^\W_]+", str(heading or "").casefold()))


def normalise_header(header, spec: ImportSpec | None = None) -> str:
    """The field a heading names by our built-in aliases, else its simplified form (for the admin's resources)."""
    key = heading_key(header)
    if spec is not None and key in (aliases := spec.alias_map()):
        return aliases[key]
    return key.replace(" ", "_")


@dataclass
class Column:
    index: int
    heading: str
    key: str
    field: str  # "" for a column that is ignored
    how: str  # "alias" (a heading we know), "remembered", "chosen" (on this preview), "derived", "unknown"


def resolve_columns(headings: list[str], spec: ImportSpec, *, chosen=None, remembered=None) -> list[Column]:
    """Which field each column fills: chosen on this preview, else remembered from an earlier one, else aliases."""
    chosen = chosen or {}
    remembered = remembered or {}
    aliases = spec.alias_map()
    columns = []
    for index, heading in enumerate(headings):
        key = heading_key(heading)
        if key in chosen:
            field_name, how = chosen[key], "chosen"
        elif key in remembered:
            field_name, how = remembered[key], "remembered"
        elif key in aliases:
            field_name, how = aliases[key], "alias"
        elif key in spec.derived:
            field_name, how = "", "derived"
        else:
            field_name, how = "", "unknown"
        if field_name not in spec.fields:
            field_name = ""
        columns.append(Column(index, str(heading).strip(), key, field_name, how))
    return columns


def column_problem(columns: list[Column], spec: ImportSpec) -> str:
    fields_used = [c.field for c in columns if c.field]
    missing = [FIELD_LABELS[f] for f in spec.required if f not in fields_used]
    twice = sorted({FIELD_LABELS[f] for f in fields_used if fields_used.count(f) > 1})
    problems = []
    if missing:
        problems.append(f"No column for {_and(missing)}.")
    if twice:
        problems.append(f"More than one column for {_and(twice)}.")
    if problems:
        problems.append("Choose which column holds what below, or rename the headings in the file.")
    return " ".join(problems)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def remembered_mapping(kind: str) -> dict[str, str]:
    return dict(ImportColumnMapping.objects.filter(kind=kind).values_list("heading", "field"))


@transaction.atomic
def remember_columns(*, kind: str, chosen: dict[str, str], user=None) -> None:
    """Keep the coordinator's choice of column for each heading, for the next file with the same headings."""
    for heading, field_name in chosen.items():
        ImportColumnMapping.objects.update_or_create(
            kind=kind, heading=heading[:200], defaults={"field": field_name, "updated_by": user}
        )


# --- Reading a file -------------------------------------------------------------------------------------


@dataclass
class RowProblem:
    line: int
    reasons: list[str]
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedFile:
    columns: list[Column]
    rows: list[tuple[int, dict[str, str]]]  # (line in the file, {field: cell})
    problems: list[RowProblem]
    column_problem: str = ""

    @property
    def ignored(self) -> list[str]:
        return [c.heading for c in self.columns if not c.field and c.how != "derived" and c.heading]


def decode_csv(data: bytes, *, noun: str) -> str:
    """The file as text, or ImportFileError saying what is wrong with it as a whole."""
    if problem := size_problem(len(data)):
        raise ImportFileError(problem)
    if not data.strip():
        raise ImportFileError(f"The file is empty. It needs a header row and one row per {noun}.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "The file is saved as UTF-16 text. Save it as “CSV UTF-8 (comma delimited)” and upload it again."
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportFileError(
            "This is a spreadsheet file (Excel or similar), not CSV. "
            "Save it as “CSV UTF-8 (comma delimited)” and upload that."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (the first unreadable character is on line {line}). "
            "Save it as “CSV UTF-8 (comma delimited)” and upload it again."
        ) from None
    if "\x00" in text:
        raise ImportFileError("The file contains binary data, so it is not a CSV file.")
    return text


def read_csv(data: bytes, *, kind: str, chosen=None, remembered=None) -> ParsedFile:
    """Decode and parse an uploaded CSV, or raise ImportFileError saying what is wrong with the file.

    Cells come back stripped of the apostrophe our exports put before formula-like text.
    """
    spec = SPECS[kind]
    text = decode_csv(data, noun=spec.noun)
    max_rows = settings.IMPORT_MAX_ROWS
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headings = [strip_neutraliser(h) for h in next(reader, [])]
        columns = resolve_columns(headings, spec, chosen=chosen, remembered=remembered)
        used = [c for c in columns if c.field]
        rows: list[tuple[int, dict[str, str]]] = []
        problems: list[RowProblem] = []
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # blank lines are allowed anywhere
            if len(rows) + len(problems) >= max_rows:
                raise ImportFileError(
                    f"The file has more than {max_rows:,} rows, the most one import takes. Split it into "
                    "smaller files (a conference has a few thousand delegates at most)."
                )
            if len(cells) > len(headings) and any(c.strip() for c in cells[len(headings) :]):
                problems.append(
                    RowProblem(start, [f"This row has {len(cells)} cells but the header has {len(headings)}."])
                )
                continue
            cells = (cells + [""] * len(headings))[: len(headings)]
            rows.append((start, {c.field: strip_neutraliser(cells[c.index]) for c in used}))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    if not rows and not problems:
        raise ImportFileError(f"The file has a header row but no {spec.noun} rows.")
    return ParsedFile(columns=columns, rows=rows, problems=problems, column_problem=column_problem(columns, spec))


def size_problem(size: int) -> str | None:
    limit = settings.IMPORT_MAX_BYTES
    if size <= limit:
        return None
    return f"The file is {_size(size)}; the most this page accepts is {_size(limit)}. Split it into smaller files."


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


# --- The report -----------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    line: int
    action: str  # new, updated, unchanged
    name: str
    organisation: str
    mobile: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    kind: str
    dry_run: bool = False
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # bad rows left out at the coordinator's request
    file_error: str = ""
    column_error: str = ""
    problems: list[RowProblem] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skip_bad_rows: bool = False

    PREVIEW_ROWS = 10

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.column_error and (not self.problems or self.skip_bad_rows)

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def good_rows(self) -> int:
        return self.total

    def summary(self) -> str:
        counts = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.file_error:
            return f"Nothing was imported: {self.file_error}"
        if self.column_error:
            return f"Nothing was imported yet: {self.column_error}"
        if self.problems and not self.skip_bad_rows:
            rows = "row has" if len(self.problems) == 1 else "rows have"
            return f"Nothing was imported: {len(self.problems)} {rows} problems. Fix them and import the file again."
        skipped = (
            f"; {len(self.problems)} bad row{'s' if len(self.problems) != 1 else ''} skipped" if self.problems else ""
        )
        if self.dry_run:
            return f"Ready to import {self.kind}: {counts}{skipped}."
        return f"Imported {self.kind}: {counts}{skipped}."

    def lines(self) -> list[str]:
        """The report as text, for the management commands."""
        out = [self.summary()]
        out += [f"warning: {w}" for w in self.warnings]
        out += [f"line {p.line}: {'; '.join(p.reasons)}" for p in self.problems]
        return out

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ImportReport:
        data = dict(data)
        data["problems"] = [RowProblem(**p) for p in data.get("problems", [])]
        data["columns"] = [Column(**c) for c in data.get("columns", [])]
        data["preview"] = [PreviewRow(**r) for r in data.get("preview", [])]
        return cls(**data)


# --- Delegates, set-based -------------------------------------------------------------------------------
# The organisations, the conference's delegates and their live consents are loaded once; rows are checked
# in Python with the same cell rules (widgets) as the admin's resource; writes are one bulk insert, one bulk
# update and one consent write. The queries do not grow with the rows.

DELEGATE_DEFAULTS = {
    "first_name": "",
    "last_name": "",
    "gender": Delegate.Gender.NOT_STATED,
    "seat_type": Delegate.SeatType.ORDINARY,
    "is_attending": True,
    "mobile": "",
    "email": "",
}
DELEGATE_FIELDS = (
    "first_name",
    "last_name",
    "organisation_id",
    "gender",
    "seat_type",
    "is_attending",
    "mobile",
    "email",
)
_email_validator = EmailValidator()
_text = TextWidget()
_mobile = MobileWidget()


@dataclass
class DelegateRow:
    line: int
    pk: int | None
    values: dict
    changed: list[str]
    consent: tuple[str, str] | None
    warnings: list[str]

    @property
    def action(self) -> str:
        if self.pk is None:
            return "new"
        return "updated" if self.changed or self.consent else "unchanged"


class DelegatePlanner:
    """Checks every row of a parsed file against the conference as it is, and says what importing would do."""

    def __init__(self, conference: Conference):
        self.conference = conference
        resource_fields = DelegateResource(conference=conference).fields
        self.widgets = {name: resource_fields[name].widget for name in ("gender", "seat_type", "is_attending")}
        self.organisations = OrganisationWidget()
        self.organisations.load()  # one query
        self.orgs_by_pk = {o.pk: o for o in self.organisations.by_key.values()}
        self.existing: dict[int, dict] = {}
        self.by_mobile: dict[str, int] = {}
        self.by_name: dict[tuple, int] = {}
        for values in Delegate.objects.filter(conference=conference).values("pk", *DELEGATE_FIELDS):  # one query
            pk = values.pop("pk")
            self.existing[pk] = values
            if values["mobile"]:
                self.by_mobile[values["mobile"]] = pk
            key = (values["organisation_id"], values["first_name"].casefold(), values["last_name"].casefold())
            self.by_name.setdefault((*key, bool(values["mobile"])), pk)
        self.live_consents = {
            delegate_id: (method, wording)
            for delegate_id, method, wording in SmsConsent.objects.filter(
                delegate__conference=conference, withdrawn_at__isnull=True
            ).values_list("delegate_id", "method", "wording")
        }  # one query

    def plan(self, parsed: ParsedFile, *, progress=None) -> tuple[list[DelegateRow], list[RowProblem]]:
        planned: list[DelegateRow] = []
        problems = list(parsed.problems)
        seen: dict[tuple, int] = {}
        for done, (line, cells) in enumerate(parsed.rows, start=1):
            try:
                planned.append(self.plan_row(line, cells, seen))
            except ValidationError as exc:
                problems.append(RowProblem(line, _reasons(exc.message_dict), cells))
            if progress and done % 250 == 0:
                progress(done, len(parsed.rows))
        problems.sort(key=lambda p: p.line)
        return planned, problems

    def plan_row(self, line: int, cells: dict, seen: dict) -> DelegateRow:
        errors: dict[str, list[str]] = {}
        parsed: dict = {}
        warnings = []

        def clean(name, rule):
            if name in cells:
                try:
                    parsed[name] = rule(cells[name])
                except (ValueError, ValidationError) as exc:
                    errors[name] = [" ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)]

        clean("first_name", _text.clean)
        clean("last_name", _text.clean)
        clean("organisation", self.organisations.clean)
        for name, widget in self.widgets.items():
            clean(name, widget.clean)
        clean("mobile", _mobile.clean)
        clean("email", _clean_email)
        for name, label in (("first_name", "first name"), ("last_name", "last name")):
            if name not in errors and not parsed.get(name):
                errors[name] = [f"Missing {label}."]
            elif len(parsed.get(name, "")) > 100:
                errors[name] = [f"The {label} is longer than 100 characters."]
        consent = None
        try:
            consent = wanted_consent(cells)
        except ValueError as exc:
            errors["sms_consent_method"] = [str(exc)]
        if parsed.get("mobile") and (warning := mobile_warning(parsed["mobile"])):
            warnings.append(warning)

        organisation = parsed.get("organisation")
        mobile = parsed.get("mobile", "")
        pk = None
        if "mobile" not in errors and mobile:
            pk = self.by_mobile.get(mobile)
        if pk is None and organisation is not None and "first_name" not in errors and "last_name" not in errors:
            key = (organisation.pk, parsed["first_name"].casefold(), parsed["last_name"].casefold())
            pk = self.by_name.get((*key, False))
            if pk is None and not mobile and "mobile" not in errors:
                pk = self.by_name.get((*key, True))
        if errors:
            raise ValidationError(errors)

        if mobile and (earlier := _first_seen(seen, ("mobile", mobile), line)):
            raise ValidationError({"mobile": [f"The same mobile is on line {earlier}."]})
        if not mobile:
            key = ("name", organisation.pk, parsed["first_name"].casefold(), parsed["last_name"].casefold())
            if earlier := _first_seen(seen, key, line):
                raise ValidationError(
                    {NON_FIELD_ERRORS: [f"The same delegate (organisation and name) is on line {earlier}."]}
                )
        if pk is not None and (earlier := _first_seen(seen, ("pk", pk), line)):
            raise ValidationError({NON_FIELD_ERRORS: [f"This is the same delegate as on line {earlier}."]})

        before = self.existing.get(pk) if pk else {**DELEGATE_DEFAULTS, "organisation_id": None}
        values = dict(before)
        for name, value in parsed.items():
            if name == "organisation":
                values["organisation_id"] = value.pk
            else:
                values[name] = value
        if values["seat_type"] == Delegate.SeatType.ADDITIONAL_WOMAN and values["gender"] not in (
            "",
            Delegate.Gender.WOMAN,
        ):
            raise ValidationError({"seat_type": ["The additional woman place is for a woman delegate."]})
        changed = [name for name in DELEGATE_FIELDS if values[name] != before[name]] if pk else list(DELEGATE_FIELDS)
        if consent is not None and pk is not None and self.live_consents.get(pk) == consent:
            consent = None
        return DelegateRow(line, pk, values, changed, consent, warnings)

    def over_entitlement(self, planned: list[DelegateRow]) -> list[str]:
        """Delegations in the file that would have more delegates than the conference's rules give them."""
        delegation = {pk: values["organisation_id"] for pk, values in self.existing.items()}
        new_count = 0
        for row in planned:
            if row.pk is None:
                new_count += 1
                delegation[("new", new_count)] = row.values["organisation_id"]
            else:
                delegation[row.pk] = row.values["organisation_id"]
        sizes = Counter(delegation.values())
        warnings = []
        for org_id in sorted({row.values["organisation_id"] for row in planned}, key=lambda i: self.orgs_by_pk[i].name):
            organisation = self.orgs_by_pk[org_id]
            places = self.conference.delegate_entitlement(organisation)
            if not places:
                continue  # affiliates' places follow their own rules
            places += sum(self.conference.extra_places(organisation))
            if sizes[org_id] > places:
                warnings.append(
                    f"{organisation.name} would have {sizes[org_id]} delegates but is entitled to {places}: "
                    "check for substitutes or a double entry."
                )
        return warnings


def _clean_email(value) -> str:
    text = str(value or "").strip()
    if text:
        if len(text) > 254:
            raise ValueError("The email address is longer than 254 characters.")
        _email_validator(text)
    return text


def _first_seen(seen: dict, key: tuple, line: int) -> int | None:
    earlier = seen.get(key)
    if earlier is None:
        seen[key] = line
    return earlier


@transaction.atomic
def apply_delegate_rows(*, conference: Conference, rows: list[DelegateRow], user=None, source: str = "") -> None:
    """Write planned rows: one bulk insert, one bulk update, then the consents they carry (via the service)."""
    now = timezone.now()
    created = [Delegate(conference=conference, **row.values) for row in rows if row.pk is None]
    Delegate.objects.bulk_create(created)
    new_rows = iter(created)
    consents = []
    changed_fields: set[str] = set()
    updates = []
    for row in rows:
        pk = next(new_rows).pk if row.pk is None else row.pk
        if row.pk is not None and row.changed:
            changed_fields.update(row.changed)
            updates.append(Delegate(pk=pk, conference=conference, updated_at=now, **row.values))
        if row.consent:
            consents.append((pk, *row.consent))
    if updates:
        _update_all(updates, sorted(changed_fields | {"updated_at"}))
    # A re-imported erased person's opt-out gets its number back, in this transaction (one query if none).
    relink_opt_outs(numbers=[row.values["mobile"] for row in rows], via="delegate import")
    if consents:
        services.record_imported_sms_consents(consents=consents, recorded_by=user, source=source)


def _update_all(delegates: list[Delegate], field_names: list[str]) -> None:
    """One UPDATE … FROM (VALUES …) for every changed delegate on PostgreSQL.

    Django's bulk_update writes a CASE with one branch per row for each field, which PostgreSQL evaluates
    row by row: quadratic, ~6 s for 1,500 delegates. Joining a VALUES list is linear.
    """
    if connection.vendor != "postgresql":
        Delegate.objects.bulk_update(delegates, field_names)
        return
    quote = connection.ops.quote_name
    columns = [Delegate._meta.get_field(name) for name in field_names]
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    params = []
    for delegate in delegates:
        params.append(delegate.pk)
        params += [column.get_db_prep_save(getattr(delegate, column.attname), connection) for column in columns]
    names = ", ".join(quote(column.column) for column in columns)
    assignments = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns)
    # Table and column names come from the model; every value is a bound parameter.
    values = ", ".join([row] * len(delegates))
    sql = f"UPDATE {quote(Delegate._meta.db_table)} AS t SET {assignments} FROM (VALUES {values}) AS v(id, {names}) WHERE t.id = v.id"  # noqa: E501, S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _delegates_report(
    parsed: ParsedFile, *, conference, user, dry_run, skip_bad_rows, progress, source=""
) -> ImportReport:
    report = ImportReport(kind="delegates", dry_run=dry_run, skip_bad_rows=skip_bad_rows)
    planner = DelegatePlanner(conference)
    planned, problems = planner.plan(parsed, progress=progress)
    report.problems = problems
    counts = Counter(row.action for row in planned)
    report.new, report.updated, report.unchanged = counts["new"], counts["updated"], counts["unchanged"]
    report.skipped = len(problems) if skip_bad_rows else 0
    report.warnings = planner.over_entitlement(planned)
    for row in planned[: ImportReport.PREVIEW_ROWS]:
        organisation = planner.orgs_by_pk.get(row.values["organisation_id"])
        report.preview.append(
            PreviewRow(
                line=row.line,
                action=row.action,
                name=f"{row.values['first_name']} {row.values['last_name']}".strip(),
                organisation=organisation.name if organisation else "",
                mobile=row.values["mobile"],
                warnings=row.warnings,
            )
        )
    unknown_ranges = sum(1 for row in planned if row.warnings)
    if unknown_ranges:
        report.warnings.append(
            f"{unknown_ranges} mobile{'s are' if unknown_ranges > 1 else ' is'} in a range our phone-number "
            "tables do not list yet: accepted, but worth a check."
        )
    if not dry_run and report.ok:
        try:
            apply_delegate_rows(conference=conference, rows=planned, user=user, source=source)
        except IntegrityError:
            report.file_error = (
                "The delegates changed while this file was being imported (another import or an edit). "
                "Nothing was imported: check the file again."
            )
    return report


# --- The import service ---------------------------------------------------------------------------------


def import_delegates(
    *,
    data: bytes,
    conference: Conference | None = None,
    user=None,
    dry_run=False,
    chosen=None,
    skip_bad_rows=False,
    progress=None,
    source: str = "",
) -> ImportReport:
    """Import a delegates CSV into ``conference`` (default: the current one).

    All or nothing unless ``skip_bad_rows``; ``chosen`` maps heading keys to fields (the preview's choices).
    ``source`` names the file on the consents it carries (e.g. "imported file delegates.csv").
    """
    conference = conference or Conference.current()
    report = ImportReport(kind="delegates", dry_run=dry_run, skip_bad_rows=skip_bad_rows)
    if conference is None:
        report.file_error = "There is no conference to import delegates into: create one first."
        return report
    parsed = _parse(report, data, chosen=chosen)
    if parsed is None:
        return report
    result = _delegates_report(
        parsed,
        conference=conference,
        user=user,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        progress=progress,
        source=source,
    )
    result.columns, result.ignored = report.columns, report.ignored
    return result


def import_organisations(*, data: bytes, user=None, dry_run=False, chosen=None, skip_bad_rows=False, progress=None):
    """Import an organisations CSV (through the admin's resource: a few hundred rows at most)."""
    report = ImportReport(kind="organisations", dry_run=dry_run, skip_bad_rows=skip_bad_rows)
    parsed = _parse(report, data, chosen=chosen)
    if parsed is None:
        return report
    headers = [c.field for c in parsed.columns if c.field]
    rows = [(line, cells) for line, cells in parsed.rows]
    result, problems = _organisation_pass(rows, headers, user=user, dry_run=True)
    report.problems = sorted(parsed.problems + problems, key=lambda p: p.line)
    if report.ok and not dry_run:
        bad = {p.line for p in problems}
        result, late = _organisation_pass([r for r in rows if r[0] not in bad], headers, user=user, dry_run=False)
        if late:
            report.file_error = "The organisations changed while this file was being imported: check the file again."
    report.new = result.totals["new"]
    report.updated = result.totals["update"]
    report.unchanged = result.totals["skip"]
    report.skipped = len(report.problems) if skip_bad_rows else 0
    return report


def _organisation_pass(rows, headers, *, user, dry_run):
    dataset = tablib.Dataset(*[[cells[h] for h in headers] for _, cells in rows], headers=headers)
    resource = OrganisationResource(lines=[line for line, _ in rows])
    result = resource.import_data(dataset, dry_run=dry_run, raise_errors=False, user=user)
    problems = [
        RowProblem(resource.line_of(row.number), _reasons(row.error_dict), rows[row.number - 1][1])
        for row in result.invalid_rows
    ]
    for row in result.error_rows:
        reasons = [f"Could not be saved: {e.error}" for e in row.errors]
        problems.append(RowProblem(resource.line_of(row.number), reasons))
    problems += [RowProblem(0, [f"The import failed: {e.error}"]) for e in result.base_errors]
    return result, problems


def _parse(report: ImportReport, data: bytes, *, chosen) -> ParsedFile | None:
    """Read the file into the report's columns; None (with the report saying why) when no row can be read."""
    try:
        parsed = read_csv(data, kind=report.kind, chosen=chosen, remembered=remembered_mapping(report.kind))
    except ImportFileError as exc:
        report.file_error = str(exc)
        return None
    report.columns = parsed.columns
    report.ignored = parsed.ignored
    if parsed.column_problem:
        report.column_error = parsed.column_problem
        return None
    return parsed


def _reasons(error_dict: dict) -> list[str]:
    reasons = []
    for name, messages in error_dict.items():
        for message in messages:
            reasons.append(message if name == NON_FIELD_ERRORS else f"{name}: {message}")
    return reasons


# --- Pending imports: the upload between its preview and the coordinator's confirm ----------------------

PENDING_MAX_AGE = timedelta(hours=2)
_RUNNERS = {"delegates": import_delegates, "organisations": import_organisations}


def count_rows(data: bytes) -> int:
    """Lines after the header: enough to choose between answering now and a background task."""
    return max(0, data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1))


@transaction.atomic
def start_pending_import(*, user, kind: str, conference, data: bytes, file_name: str = "") -> PendingImport:
    return PendingImport.objects.create(
        token=secrets.token_urlsafe(24),
        created_by=user,
        kind=kind,
        conference=conference if kind == "delegates" else None,
        file_name=file_name[:255],
        data=data,
        rows_total=count_rows(data),
        status=PendingImport.Status.CHECKING,
    )


def runs_in_background(pending: PendingImport) -> bool:
    """Big files go to a worker. Organisations still go through the admin's per-row resource (~10× the cost
    of a delegate row), so their threshold is a tenth: a 650-CLP file never holds a web request."""
    limit = settings.IMPORT_BACKGROUND_ROWS
    if pending.kind == "organisations":
        limit = max(1, limit // 10)
    return pending.rows_total > limit


def check_pending_import(*, pending: PendingImport) -> ImportReport:
    """Preview the upload (a dry run) and keep the report on the row for the page to show."""
    report = _run_pending(pending, dry_run=True)
    PendingImport.objects.filter(pk=pending.pk).update(
        status=PendingImport.Status.READY, report=report.as_json(), rows_done=pending.rows_total, updated_at=_now()
    )
    pending.status, pending.report = PendingImport.Status.READY, report.as_json()
    return report


def confirm_pending_import(*, pending: PendingImport, keep_result: bool = False) -> ImportReport:
    """Import the upload. Done: the row is deleted (or, for a background run, emptied and kept for its page)."""
    report = _run_pending(pending, dry_run=False)
    if report.committed:
        audit_import(report, actor=pending.created_by, how="page")
    if report.committed and not keep_result:
        PendingImport.objects.filter(pk=pending.pk).delete()
    elif report.committed:
        PendingImport.objects.filter(pk=pending.pk).update(
            status=PendingImport.Status.DONE, report=report.as_json(), data=b"", updated_at=_now()
        )
    else:
        # Something changed since the preview: back to a preview showing what is wrong now.
        PendingImport.objects.filter(pk=pending.pk).update(
            status=PendingImport.Status.READY, report=report.as_json(), updated_at=_now()
        )
    return report


def audit_import(report: ImportReport, *, actor=None, how: str) -> None:
    """Report a committed import to the access audit: how many rows, never what was in them."""
    audit.record_access(
        action=audit.IMPORT,
        what=f"{report.kind} import ({how})",
        count=report.total,
        actor=actor,
        detail={"new": report.new, "updated": report.updated, "unchanged": report.unchanged,
                "skipped": len(report.problems)},
    )  # fmt: skip


@transaction.atomic
def choose_columns(*, pending: PendingImport, chosen: dict[str, str], user=None) -> None:
    """The coordinator's choice of columns on the preview: kept for this upload and remembered for the next."""
    spec = SPECS[pending.kind]
    valid = {key: value for key, value in chosen.items() if value == "" or value in spec.fields}
    pending.mapping = {**pending.mapping, **valid}
    pending.status = PendingImport.Status.CHECKING
    pending.save(update_fields=["mapping", "status", "updated_at"])
    remember_columns(kind=pending.kind, chosen=valid, user=user)


@transaction.atomic
def set_skip_bad_rows(*, pending: PendingImport, skip: bool) -> None:
    pending.skip_bad_rows = skip
    pending.save(update_fields=["skip_bad_rows", "updated_at"])


def mark_importing(*, pending: PendingImport) -> None:
    PendingImport.objects.filter(pk=pending.pk).update(
        status=PendingImport.Status.IMPORTING, rows_done=0, updated_at=_now()
    )
    pending.status = PendingImport.Status.IMPORTING


def cancel_pending_import(*, pending: PendingImport) -> None:
    PendingImport.objects.filter(pk=pending.pk).delete()


def purge_stale_imports() -> int:
    """Delete uploads nobody confirmed or cancelled (the file may hold personal data): older than two hours."""
    deleted, _ = PendingImport.objects.filter(updated_at__lt=_now() - PENDING_MAX_AGE).delete()
    return deleted


def _run_pending(pending: PendingImport, *, dry_run: bool) -> ImportReport:
    def progress(done, total):
        PendingImport.objects.filter(pk=pending.pk).update(rows_done=done)

    kwargs = {}
    if pending.kind == "delegates":
        kwargs = {"conference": pending.conference, "source": f"imported file {pending.file_name}".strip()}
    return _RUNNERS[pending.kind](
        data=bytes(pending.data),
        user=pending.created_by,
        dry_run=dry_run,
        chosen=pending.mapping,
        skip_bad_rows=pending.skip_bad_rows,
        progress=progress if runs_in_background(pending) else None,
        **kwargs,
    )


def _now():
    return timezone.now()
