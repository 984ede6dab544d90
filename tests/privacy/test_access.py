"""Subject access: only coordinators with the data protection permission; one export of everything held about a
person, found by any spelling of their number or by email; every export audited without personal data."""

import datetime as dt
import json

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from delegates.models import Organisation, SmsConsent
from lobbying import services as lobbying_services
from lobbying.models import (
    Briefing,
    BriefingRecipient,
    LobbyingAssignment,
    Motion,
    ProposedStance,
    SavedList,
    StanceChange,
    Submission,
)
from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage, OutboundStatusChange
from privacy.access import subject_access_export
from privacy.inventory import COORDINATOR, INVENTORY
from privacy.models import AuditEvent
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory, UserFactory
from tests.volunteers.support import ShiftFactory, VolunteerFactory
from volunteers.models import Signup, SignupChange

pytestmark = pytest.mark.django_db

MOBILE = "+447700900321"
EMAIL = "ann.example@example.org"
URL = "/privacy/access/"


@pytest.fixture
def data_protection_officer(db):
    user = CoordinatorFactory(username="dpo", first_name="Dee", last_name="Pio")
    user.user_permissions.add(Permission.objects.get(codename="data_protection", content_type__app_label="privacy"))
    return user


@pytest.fixture
def dpo_client(client, data_protection_officer):
    client.force_login(data_protection_officer)
    return client


@pytest.fixture
def ann(conference, coordinator):
    """One person with a record of every kind: delegate, volunteer, contact, texts both ways, opt-out."""
    now = timezone.now()
    organisation = OrganisationFactory(name="Wirral West", secretary_name="Ann Example", secretary_email=EMAIL,
                                       secretary_phone=MOBILE)  # fmt: skip
    delegate = DelegateFactory(conference=conference, organisation=organisation, first_name="Ann",
                               last_name="Example", mobile=MOBILE, email=EMAIL, notes="Met at the fringe")  # fmt: skip
    SmsConsent.objects.create(delegate=delegate, method=SmsConsent.Method.IN_PERSON, wording="Texts about votes",
                              recorded_by=coordinator, withdrawn_at=now, withdrawal_reason="asked")  # fmt: skip
    motion = lobbying_services.create_motion(conference=conference, title="Scrap the cap", text="Conference notes.",
                                             position=Motion.Position.SUPPORT)  # fmt: skip
    stance = StanceChange.objects.create(delegate=delegate, motion=motion, level="for", source="conversation",
                                recorded_by=coordinator, recorded_by_name="Val", note="Keen", at=now)  # fmt: skip
    assignment = LobbyingAssignment.objects.create(conference=conference, motion=motion, volunteer_name="Ann Example",
                                                   volunteer_mobile=MOBILE, ask="Ask them to back it",
                                                   created_by=coordinator, expires_at=now, revoked_at=now)  # fmt: skip
    assignment.delegates.add(delegate)
    SavedList.objects.create(conference=conference, name="Fringe", created_by=coordinator).delegates.add(delegate)
    briefing = Briefing.objects.create(conference=conference, motion=motion, body="Hi {first_name}",
                                       created_by=coordinator)  # fmt: skip
    BriefingRecipient.objects.create(briefing=briefing, delegate=delegate, body="Hi Ann", idempotency_key="b:1:d:1")
    Submission.objects.create(motion=motion, organisation=organisation, local_contact=f"Ann ({EMAIL}, {MOBILE})")
    volunteer = VolunteerFactory(name="Ann Example", mobile=MOBILE, email=EMAIL.upper(), last_asked_to_cover_at=now)
    shift = ShiftFactory(conference=conference, lead=volunteer)
    signup = Signup.objects.create(shift=shift, volunteer=volunteer, status="confirmed", queued_at=now,
                                   offer_expires_at=now, reconfirmed_at=now)  # fmt: skip
    SignupChange.objects.create(signup=signup, to_status="confirmed", reason="signed up", source="public",
                                by=coordinator)  # fmt: skip
    sent = OutboundMessage.objects.create(idempotency_key="t:1", to=MOBILE, body="Vote for the cap motion",
                                          purpose="briefing", provider_sid="SM1", error_code="0", error_message="-",
                                          claimed_at=now, sent_at=now, delivered_at=now, useless_after=now)  # fmt: skip
    OutboundStatusChange.objects.create(message=sent, from_status="queued", to_status="sent", reason="ok",
                                        error_code="0")  # fmt: skip
    InboundMessage.objects.create(from_number=MOBILE, to_number="+447700900999", body="STOP please", purpose="x",
                                  provider_sid="SM2", in_reply_to=sent, keyword="STOP", handled=True,
                                  handled_at=now, handled_by=coordinator)  # fmt: skip
    said = InboundMessage.objects.create(from_number="+447700900323", body="FOR", provider_sid="SM3")
    ProposedStance.objects.create(delegate=delegate, motion=motion, briefing=briefing, level="for", inbound=said,
                                  status="accepted", decided_by=coordinator, decided_at=now,
                                  stance_change=stance)  # fmt: skip
    opt_out = OptOut.objects.create(number=MOBILE)
    OptOutEvent.objects.create(opt_out=opt_out, number=MOBILE, action="opt_out", source="sms_keyword", keyword="STOP")
    # Someone else, who must not appear.
    DelegateFactory(conference=conference, first_name="Bob", last_name="Other", mobile="+447700900322")
    return delegate


# --- Who may ------------------------------------------------------------------------------------------------------
def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_is_exported(client):
    for response in (client.get(URL), client.post(URL, {"identifier": MOBILE})):
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not AuditEvent.objects.exists()


def test_a_logged_in_non_coordinator_gets_403(outsider_client):
    assert outsider_client.get(URL).status_code == 403
    assert outsider_client.post(URL, {"identifier": MOBILE}).status_code == 403


def test_a_coordinator_without_the_data_protection_permission_gets_403(coordinator_client, ann):
    assert coordinator_client.get(URL).status_code == 403
    response = coordinator_client.post(URL, {"identifier": MOBILE, "format": "json"})
    assert response.status_code == 403
    assert MOBILE not in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_coordinator_with_the_permission_and_a_superuser_get_the_page(dpo_client, client):
    assert dpo_client.get(URL).status_code == 200
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.get(URL).status_code == 200


def test_the_permission_alone_without_being_a_coordinator_is_not_enough(client):
    user = UserFactory(username="notstaff")
    user.user_permissions.add(Permission.objects.get(codename="data_protection"))
    client.force_login(user)
    assert client.get(URL).status_code == 403


# --- What the export holds ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["07700 900321", "+44 7700 900321", "0044 7700 900321", "+44 (0)7700-900321"])
def test_any_spelling_of_the_number_finds_the_same_person(dpo_client, ann, typed):
    response = dpo_client.post(URL, {"identifier": typed, "format": "json"})
    data = json.loads(response.content)
    assert [p["kind"] for p in data["people"]] == [
        "Delegate", "Volunteer", "Lobbying volunteer", "Organisation contact", "Phone number"
    ]  # fmt: skip
    assert "Bob" not in response.content.decode()


def test_the_export_holds_every_personal_field_of_every_model_the_inventory_lists(ann):
    """The other half of test_inventory: a field classified personal must really be in the export."""
    export = subject_access_export(kind="phone", value=MOBILE).as_json()
    found = {}
    for person in export["people"]:
        for section in person["sections"]:
            for row in section["rows"]:
                found.setdefault(section["model"], set()).update(row)
    missing = []
    for label, entry in INVENTORY.items():
        wanted = {name for name, whose in entry.personal.items() if whose != COORDINATOR}
        if wanted and not wanted <= found.get(label, set()):
            missing.append(f"{label}: {sorted(wanted - found.get(label, set()))}")
    assert not missing, "Personal fields not in the subject access export: " + "; ".join(missing)


def test_stance_history_says_who_recorded_it_and_values_are_readable(ann, coordinator):
    export = subject_access_export(kind="email", value=EMAIL)
    delegate = export.people[0]
    stances = next(s for s in delegate.sections if s.model == "lobbying.StanceChange")
    row = stances.rows[0]
    assert (row["level"], row["recorded_by"], row["recorded_by_name"], row["note"]) == ("For", "Cora", "Val", "Keen")
    assert row["motion"] == "Scrap the cap"


def test_a_search_by_email_also_brings_the_texts_held_under_their_numbers(ann):
    export = subject_access_export(kind="email", value=EMAIL.title())
    number = next(p for p in export.people if p.kind == "Phone number")
    assert number.heading == MOBILE
    texts = {s.title: len(s.rows) for s in number.sections}
    assert texts["Texts sent to the number"] == 1 and texts["Texts received from the number"] == 1


def test_several_records_sharing_an_email_are_all_exported_each_in_its_own_group(conference):
    DelegateFactory(conference=conference, first_name="Sam", last_name="One", email="shared@example.org")
    DelegateFactory(conference=conference, first_name="Sam", last_name="Two", email="Shared@Example.org")

    export = subject_access_export(kind="email", value="shared@example.org")

    delegates = [p for p in export.people if p.kind == "Delegate"]
    assert [p.heading.split(",")[0] for p in delegates] == ["Sam One", "Sam Two"]
    assert all(len(p.sections[0].rows) == 1 for p in delegates)


def test_a_coordinators_own_export_lists_their_account_and_counts_records_naming_them(ann, coordinator):
    export = subject_access_export(kind="email", value=coordinator.email)
    account = next(p for p in export.people if p.kind == "Coordinator account")
    counted = {row["field"] for row in account.sections[1].rows}
    assert {"recorded_by", "created_by", "handled_by", "by"} <= counted
    # Counted, never listed: the stances they recorded are the delegates' political opinions.
    assert "Keen" not in json.dumps(export.as_json())


# --- The page, the download, the audit ----------------------------------------------------------------------------
def test_the_json_download_is_a_post_response_named_without_personal_data_and_audited(dpo_client, ann):
    response = dpo_client.post(URL, {"identifier": "07700 900321", "format": "json"})

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="subject-access-')
    assert "900321" not in response["Content-Disposition"] and "Ann" not in response["Content-Disposition"]
    event = AuditEvent.objects.get()
    assert event.action == "subject_access" and event.actor.username == "dpo"
    assert event.count == json.loads(response.content)["records"] > 10
    stored = f"{event.what} {json.dumps(event.detail)}"
    assert "900321" not in stored and "Ann" not in stored and "example.org" not in stored


def test_the_printable_page_shows_every_group_and_the_print_and_download_buttons(dpo_client, ann):
    response = dpo_client.post(URL, {"identifier": MOBILE, "format": "page"})

    page = response.content.decode()
    assert response.status_code == 200
    for text in ("Stance history and conversations", "Consent to texts", "Sign-up history", "Texts received from",
                 "Opt-outs and opt-ins", "Met at the fringe", "data-print", 'value="json"'):  # fmt: skip
        assert text in page, text
    assert AuditEvent.objects.get().what.startswith("subject access export (page")


def test_an_unknown_person_gets_a_clear_nothing_held_and_the_search_is_still_audited(dpo_client, ann):
    response = dpo_client.post(URL, {"identifier": "nobody@example.org"})

    assert response.status_code == 200
    assert "Nothing held" in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.count, event.detail["nothing_held"]) == (0, True)


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "required"), ("not a number", "is not a phone number"), ("ann@", "valid email"), ("0770090", "")],
)
def test_bad_input_shows_a_field_error_never_a_500_and_audits_nothing(dpo_client, typed, message):
    response = dpo_client.post(URL, {"identifier": typed})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_nothing_personal_goes_into_the_url(dpo_client, ann):
    response = dpo_client.post(URL, {"identifier": MOBILE})
    assert response.request["PATH_INFO"] == URL and not response.request.get("QUERY_STRING")


def test_a_landline_as_typed_finds_the_secretary_who_gave_it(dpo_client, conference):
    OrganisationFactory(name="Leeds Central", secretary_name="Lee", secretary_phone="+441134960000")

    export = subject_access_export(kind="phone", value="+441134960000")
    response = dpo_client.post(URL, {"identifier": "0113 496 0000", "format": "json"})

    assert [p.kind for p in export.people] == ["Organisation contact"]
    assert export.people[0].sections[0].rows[0]["record"] == "Leeds Central"  # which organisation, not only who
    assert json.loads(response.content)["people"][0]["sections"][0]["rows"][0]["secretary_name"] == "Lee"


def test_the_export_is_stamped_with_when_it_was_made(ann):
    moment = dt.datetime(2027, 9, 30, 9, 0, tzinfo=dt.UTC)
    assert subject_access_export(kind="phone", value=MOBILE, now=moment).as_json()["generated_at"].startswith("2027")
    assert Organisation.objects.filter(secretary_phone=MOBILE).exists()
