"""Subject access: everything Cardvote holds about one person, found by a phone number or an email address.

Each domain app says where its records of a person are (``personal_data_of_*`` selectors returning
``(title, queryset)`` pairs; they import nothing from here); this module finds the people, composes their
records and serialises each row through the personal-data inventory, so a field added to the inventory's
``personal`` list is exported without touching this file. Records are grouped by person: two delegate records
sharing an email (two conferences, a double import) are two groups, each with its own consents and stances;
the texts and opt-outs held under a number are a group of their own.
"""

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass, field

import phonenumbers
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from delegates import selectors as delegate_selectors
from lobbying import selectors as lobbying_selectors
from messaging import selectors as messaging_selectors
from messaging.phones import normalise_mobile
from privacy.inventory import COORDINATOR, INVENTORY
from volunteers import selectors as volunteer_selectors


@dataclass
class Section:
    title: str
    model: str  # the model's label, e.g. "lobbying.StanceChange"
    columns: list[tuple[str, str]]  # (field name, label)
    rows: list[dict]

    def as_json(self) -> dict:
        rows = [{name: _json_value(value) for name, value in row.items()} for row in self.rows]
        return {"title": self.title, "model": self.model, "rows": rows}

    def labelled_rows(self) -> list[list[tuple[str, object]]]:
        """For the print view: each row as (label, readable value) pairs, empty values left out."""
        return [
            [(label, _readable(row[name])) for name, label in self.columns if row[name] not in ("", None)]
            for row in self.rows
        ]


@dataclass
class Person:
    kind: str  # "Delegate", "Volunteer", "Phone number", "Organisation contact", "Coordinator account"
    heading: str
    sections: list[Section] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(len(section.rows) for section in self.sections)

    def as_json(self) -> dict:
        return {"kind": self.kind, "heading": self.heading, "sections": [s.as_json() for s in self.sections]}


@dataclass
class SubjectAccessExport:
    searched_by: str  # "phone number" or "email address" (the value itself is not kept here)
    generated_at: dt.datetime
    people: list[Person]

    @property
    def records(self) -> int:
        return sum(person.records for person in self.people)

    @property
    def nothing_held(self) -> bool:
        return not self.people

    def as_json(self) -> dict:
        return {
            "generated_at": self.generated_at.isoformat(),
            "searched_by": self.searched_by,
            "records": self.records,
            "nothing_held": self.nothing_held,
            "people": [person.as_json() for person in self.people],
        }


def parse_identifier(text: str) -> tuple[str, str]:
    """("email", address) or ("phone", E.164) from whatever a person typed; ValidationError saying what is wrong.

    Mobiles in any spelling go through messaging's normaliser; other numbers (a secretary's landline) through
    libphonenumber, so they match what was stored.
    """
    text = (text or "").strip()
    if not text:
        raise ValidationError("Enter a phone number or an email address.", code="required")
    if "@" in text:
        validate_email(text)
        return "email", text
    try:
        return "phone", normalise_mobile(text)
    except ValidationError as exc:
        try:
            number = phonenumbers.parse(text, "GB")
        except phonenumbers.NumberParseException:
            raise exc from None
        if not phonenumbers.is_valid_number(number):
            raise
        return "phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def subject_access_export(*, kind: str, value: str, now=None) -> SubjectAccessExport:
    """Everything held about the person with this phone number (E.164) or email address."""
    mobile, email = (value, "") if kind == "phone" else ("", value)
    people: list[Person] = []
    numbers = [mobile] if mobile else []

    for delegate in delegate_selectors.delegates_matching(mobile=mobile, email=email):
        pairs = delegate_selectors.personal_data_of_delegate(delegate)
        pairs += lobbying_selectors.personal_data_of_delegate(delegate)
        heading = f"{delegate.full_name}, {delegate.organisation} ({delegate.conference})"
        people.append(_person("Delegate", heading, pairs))
        numbers.append(delegate.mobile)

    volunteers = list(volunteer_selectors.volunteers_matching(mobile=mobile, email=email))
    for volunteer in volunteers:
        people.append(_person("Volunteer", volunteer.name, volunteer_selectors.personal_data_of_volunteer(volunteer)))
        numbers.append(volunteer.mobile)
    assignments = lobbying_selectors.personal_data_of_lobbying_volunteer(
        mobile=mobile, volunteer_ids=[v.pk for v in volunteers]
    )
    people.append(_person("Lobbying volunteer", "Lobbying lists given to them", assignments))

    contacts = [
        ("Secretary of", delegate_selectors.contacts_matching(mobile=mobile, email=email)),
        ("Local contact for", lobbying_selectors.submissions_naming_contact(mobile=mobile, email=email)),
    ]
    people.append(_person("Organisation contact", "Named as an organisation's contact", contacts))

    for number in dict.fromkeys(n for n in numbers if n):
        people.append(_person("Phone number", number, messaging_selectors.personal_data_of_number(number)))

    if email:
        for user in get_user_model().objects.filter(email__iexact=email).order_by("pk"):
            people.append(_coordinator(user))

    people = [person for person in people if person.records]
    return SubjectAccessExport(
        searched_by="phone number" if mobile else "email address", generated_at=now or timezone.now(), people=people
    )


def _person(kind: str, heading: str, pairs) -> Person:
    return Person(kind=kind, heading=heading, sections=[_section(title, qs) for title, qs in pairs])


def export_fields(model) -> list[models.Field]:
    """The fields a subject access export shows for a model: its id and every personal field, in model order."""
    personal = INVENTORY[model._meta.label].personal
    return [f for f in model._meta.concrete_fields if f.primary_key or f.name in personal]


def _section(title: str, queryset) -> Section:
    model = queryset.model
    fields = export_fields(model)
    relations = [f.name for f in fields if f.is_relation]
    columns = [(f.name, str(f.verbose_name).capitalize()) for f in fields]
    # A row about a thing (an organisation whose secretary they are, a shift they lead) says which thing.
    names_the_thing = set(INVENTORY[model._meta.label].non_personal) - {"id"}
    if names_the_thing:
        columns.insert(0, ("record", model._meta.verbose_name.capitalize()))
    rows = []
    for obj in queryset.select_related(*relations):
        row = {"record": str(obj)} if names_the_thing else {}
        rows.append(row | {f.name: _value(obj, f) for f in fields})
    return Section(title=title, model=model._meta.label, columns=columns, rows=rows)


def _value(obj, f):
    if f.is_relation:
        related = getattr(obj, f.name)
        if related is None:
            return None
        if isinstance(related, get_user_model()):
            return related.get_full_name() or related.get_username()
        return str(related)
    if f.choices:
        return getattr(obj, f"get_{f.name}_display")()
    return getattr(obj, f.attname)


def _json_value(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _readable(value):
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%-d %b %Y, %H:%M:%S}"
    if isinstance(value, dt.date):
        return f"{value:%-d %b %Y}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


def _coordinator(user) -> Person:
    """A coordinator's account, and how many records name them: counts only, since those records (stances they
    recorded, consents they took) are other people's personal data."""
    account = Section(
        title="Account",
        model="auth.User",
        columns=[(name, name.replace("_", " ").capitalize()) for name in ACCOUNT_FIELDS],
        rows=[{name: getattr(user, name) for name in ACCOUNT_FIELDS}],
    )
    counts = []
    for label, entry in INVENTORY.items():
        for name, whose in entry.personal.items():
            if whose == COORDINATOR:
                model = apps.get_model(label)
                n = model._default_manager.filter(**{name: user}).count()
                if n:
                    counts.append({"record": str(model._meta.verbose_name_plural), "field": name, "count": n})
    named = Section(
        title="Records naming them (counted: they hold other people's data)",
        model="",
        columns=[("record", "Record"), ("field", "As"), ("count", "How many")],
        rows=counts,
    )
    return Person(kind="Coordinator account", heading=user.get_username(), sections=[account, named])


ACCOUNT_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "date_joined", "last_login")
