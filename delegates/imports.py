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
from dataclasses import dataclass, field

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Prefetch
from import_export import fields, resources, widgets

from delegates import services
from delegates.models import Conference, Delegate, Organisation, Region, SmsConsent, nation_of_region
from messaging.phones import normalise_mobile

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
        for organisation in Organisation.objects.only("id", "name", "gss_code", "kind", "membership"):
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


def _simplify(text) -> str:
    return re.sub(r"[\s_\-]+", "_", str(text).strip().casefold())


# --- Resources ------------------------------------------------------------------------------------------


class CardvoteResource(resources.ModelResource):
    """Shared behaviour: all-or-nothing imports, headers matched loosely, bad headers refused."""

    required_columns: tuple[str, ...] = ()
    optional_columns: tuple[str, ...] = ()
    # Columns our own CSV export adds (derived values): accepted in a header and dropped, so an export
    # can be edited and imported again.
    ignored_columns: tuple[str, ...] = ()

    def __init__(self, *, lines: list[int] | None = None, **kwargs):
        super().__init__(**kwargs)
        # File line of each data row (blank lines and multi-line cells make it differ from row + 1).
        self.lines = lines

    @classmethod
    def known_columns(cls) -> tuple[str, ...]:
        extra = cls.optional_columns + cls.ignored_columns
        return tuple(cls._meta.fields) + tuple(c for c in extra if c not in cls._meta.fields)

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
        dataset.headers = [normalise_header(h) for h in dataset.headers or []]
        problem = header_problem(dataset.headers, self.required_columns, self.known_columns())
        if problem:
            # Leave no rows to import, so the report is the one clear message, not one error per row.
            del dataset[0 : len(dataset)]
            raise ImportFileError(problem)
        for column in self.ignored_columns:
            if column in dataset.headers:
                del dataset[column]
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

    required_columns = ORGANISATION_REQUIRED
    optional_columns = ORGANISATION_OPTIONAL

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

    required_columns = DELEGATE_REQUIRED
    optional_columns = DELEGATE_OPTIONAL
    ignored_columns = ("card_vote", "sms_consent")

    consent_method_widget = ChoiceWidget(SmsConsent.Method.choices, default=SmsConsent.Method.IMPORT, noun="method")

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
        """(method, wording) the row asks to record, or None. Raises ValueError for a bad method."""
        wording = " ".join(str(row.get("sms_consent_wording") or "").split())
        method = self.consent_method_widget.clean(row.get("sms_consent_method"))
        if not wording:
            if str(row.get("sms_consent_method") or "").strip():
                raise ValueError("SMS consent needs sms_consent_wording: what the person agreed to, word for word.")
            return None
        return method, wording

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if instance.pk and self.consent_changes(instance, row):
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def consent_changes(self, instance, row) -> bool:
        wanted = self.wanted_consent(row)
        return wanted is not None and self._live_consents.get(instance.pk) != wanted

    def after_save_instance(self, instance, row, **kwargs):
        if self.consent_changes(instance, row):
            method, wording = self.wanted_consent(row)
            user = kwargs.get("user")
            services.record_sms_consent(
                delegate=instance,
                method=method,
                wording=wording,
                recorded_by=user if getattr(user, "is_authenticated", False) else None,
            )
            self._live_consents[instance.pk] = (method, wording)

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


# --- Reading a file -------------------------------------------------------------------------------------


def normalise_header(header) -> str:
    return re.sub(r"[\s\-]+", "_", str(header or "").strip().casefold())


def header_problem(headers, required, known) -> str | None:
    missing = [c for c in required if c not in headers]
    unknown = [h for h in headers if h and h not in known]
    duplicated = sorted({h for h in headers if h and headers.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    if unknown:
        problems.append(f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.")
    if duplicated:
        problems.append(f"Column{'s' if len(duplicated) > 1 else ''} given twice: {', '.join(duplicated)}.")
    if problems:
        problems.append(f"The columns are: {', '.join(known)} (the first row of the file names them).")
        return " ".join(problems)
    return None


@dataclass
class RowProblem:
    line: int
    reasons: list[str]
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedFile:
    dataset: tablib.Dataset
    lines: list[int]
    problems: list[RowProblem]


def read_csv(data: bytes, *, resource_class: type[CardvoteResource], noun: str) -> ParsedFile:
    """Decode and parse an uploaded CSV, or raise ImportFileError saying what is wrong with the file."""
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

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = [normalise_header(h) for h in next(reader, [])]
        problem = header_problem(headers, resource_class.required_columns, resource_class.known_columns())
        if problem:
            raise ImportFileError(problem)
        kept = [i for i, h in enumerate(headers) if h not in resource_class.ignored_columns]
        dataset = tablib.Dataset(headers=[headers[i] for i in kept])
        lines: list[int] = []
        problems: list[RowProblem] = []
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # blank lines are allowed anywhere
            if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
                problems.append(
                    RowProblem(start, [f"This row has {len(cells)} cells but the header has {len(headers)}."])
                )
                continue
            cells = (cells + [""] * len(headers))[: len(headers)]
            dataset.append([cells[i] for i in kept])
            lines.append(start)
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    if not lines and not problems:
        raise ImportFileError(f"The file has a header row but no {noun} rows.")
    return ParsedFile(dataset=dataset, lines=lines, problems=problems)


def size_problem(size: int) -> str | None:
    limit = settings.IMPORT_MAX_BYTES
    if size <= limit:
        return None
    return f"The file is {_size(size)}; the most this page accepts is {_size(limit)}. Split it into smaller files."


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


# --- The import service ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    kind: str
    dry_run: bool = False
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    file_error: str = ""
    problems: list[RowProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.problems

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged

    def summary(self) -> str:
        counts = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.file_error:
            return f"Nothing was imported: {self.file_error}"
        if self.problems:
            rows = "row has" if len(self.problems) == 1 else "rows have"
            return f"Nothing was imported: {len(self.problems)} {rows} problems. Fix them and import the file again."
        if self.dry_run:
            return f"Ready to import {self.kind}: {counts}."
        return f"Imported {self.kind}: {counts}."

    def lines(self) -> list[str]:
        """The report as text, for the management commands."""
        out = [self.summary()]
        out += [f"line {p.line}: {'; '.join(p.reasons)}" for p in self.problems]
        return out


def import_delegates(*, data: bytes, conference: Conference | None = None, user=None, dry_run=False) -> ImportReport:
    """Import a delegates CSV into ``conference`` (default: the current one). All or nothing."""
    conference = conference or Conference.current()
    return _run(DelegateResource, data=data, user=user, dry_run=dry_run, noun="delegate", conference=conference)


def import_organisations(*, data: bytes, user=None, dry_run=False) -> ImportReport:
    """Import an organisations CSV. All or nothing."""
    return _run(OrganisationResource, data=data, user=user, dry_run=dry_run, noun="organisation")


def _run(resource_class, *, data, user, dry_run, noun, **resource_kwargs) -> ImportReport:
    report = ImportReport(kind=f"{noun}s", dry_run=dry_run)
    try:
        parsed = read_csv(data, resource_class=resource_class, noun=noun)
    except ImportFileError as exc:
        report.file_error = str(exc)
        return report
    report.columns = list(parsed.dataset.headers)
    resource = resource_class(lines=parsed.lines, **resource_kwargs)
    result = resource.import_data(
        parsed.dataset, dry_run=dry_run or bool(parsed.problems), raise_errors=False, user=user
    )
    report.new = result.totals["new"]
    report.updated = result.totals["update"]
    report.unchanged = result.totals["skip"]
    for error in result.base_errors:
        if isinstance(error.error, ImportFileError):
            report.file_error = str(error.error)
        else:
            report.file_error = f"The import failed: {error.error}"
    problems = list(parsed.problems)
    for invalid in result.invalid_rows:
        problems.append(
            RowProblem(
                resource.line_of(invalid.number),
                _reasons(invalid.error_dict),
                dict(zip(parsed.dataset.headers, parsed.dataset[invalid.number - 1], strict=False)),
            )
        )
    for error_row in result.error_rows:
        reasons = [f"Could not be saved: {e.error}" for e in error_row.errors]
        problems.append(RowProblem(resource.line_of(error_row.number), reasons))
    report.problems = sorted(problems, key=lambda p: p.line)
    return report


def _reasons(error_dict: dict) -> list[str]:
    reasons = []
    for name, messages in error_dict.items():
        for message in messages:
            reasons.append(message if name == NON_FIELD_ERRORS else f"{name}: {message}")
    return reasons
