"""The access audit: any app reports through config.audit; privacy writes an AuditEvent with no personal data."""

import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from config import audit
from privacy.models import AuditEvent
from tests.factories import DelegateFactory, OrganisationFactory
from tests.volunteers.support import ShiftFactory, VolunteerFactory
from volunteers.models import Signup

pytestmark = pytest.mark.django_db


def test_record_access_writes_one_audit_event_with_who_what_and_how_many(coordinator):
    audit.record_access(action=audit.EXPORT, what="delegates CSV export", count=12, actor=coordinator,
                        detail={"conference": 1})  # fmt: skip

    event = AuditEvent.objects.get()
    assert (event.action, event.what, event.count, event.actor, event.detail) == (
        "export",
        "delegates CSV export",
        12,
        coordinator,
        {"conference": 1},
    )


def test_an_anonymous_or_missing_actor_is_stored_as_nobody():
    audit.record_access(action=audit.RETENTION, what="retention run", count=0, actor=AnonymousUser())
    audit.record_access(action=audit.RETENTION, what="retention run", count=0)

    assert list(AuditEvent.objects.values_list("actor", flat=True)) == [None, None]


def test_an_unknown_action_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.record_access(action="peek", what="x", count=1)
    assert not AuditEvent.objects.exists()


def test_config_actions_are_exactly_the_audit_event_choices():
    assert set(audit.ACTIONS) == set(AuditEvent.Action.values)


# --- The audit page: every coordinator sees it --------------------------------------------------------------------
AUDIT_URL = "/privacy/audit/"


def _event(action, what, *, at, actor=None, count=1):
    return AuditEvent.objects.create(action=action, what=what, count=count, actor=actor, at=at)


def test_the_audit_page_is_for_every_coordinator_and_nobody_else(client, outsider, coordinator):
    response = client.get(AUDIT_URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(outsider)
    assert client.get(AUDIT_URL).status_code == 403
    client.force_login(coordinator)  # no data protection permission needed to read the audit
    assert client.get(AUDIT_URL).status_code == 200


def test_the_audit_page_lists_events_newest_first_with_who_and_how_many(coordinator_client, coordinator):
    _event("export", "delegates CSV export", at=dt.datetime(2027, 9, 26, 9, tzinfo=dt.UTC), actor=coordinator,
           count=1300)  # fmt: skip
    _event("retention", "retention run", at=dt.datetime(2027, 12, 29, 3, tzinfo=dt.UTC))

    page = coordinator_client.get(AUDIT_URL).content.decode()

    assert page.index("Retention run") < page.index("delegates CSV export")
    assert "1300" in page and "Cora" in page and "the system" in page


def test_the_audit_page_filters_by_action_and_by_whole_days(coordinator_client):
    _event("export", "early export", at=dt.datetime(2027, 9, 25, 23, tzinfo=dt.UTC))  # 26 Sep 00:00 in London
    _event("export", "late export", at=dt.datetime(2027, 9, 27, 12, tzinfo=dt.UTC))
    _event("import", "delegates import", at=dt.datetime(2027, 9, 26, 12, tzinfo=dt.UTC))

    by_action = coordinator_client.get(AUDIT_URL, {"action": "import"}).content.decode()
    by_day = coordinator_client.get(AUDIT_URL, {"since": "2027-09-26", "until": "2027-09-26"}).content.decode()

    assert "delegates import" in by_action and "export" not in by_action.split("<tbody>")[1]
    assert "early export" in by_day and "delegates import" in by_day and "late export" not in by_day


@pytest.mark.parametrize(
    "params", [{"action": "peek"}, {"since": "yesterday"}, {"since": "2027-09-27", "until": "2027-09-26"}]
)
def test_bad_filters_show_a_field_error_not_a_500(coordinator_client, params):
    response = coordinator_client.get(AUDIT_URL, params)
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()


def test_the_audit_page_is_paginated_and_its_query_count_does_not_grow(
    coordinator_client, coordinator, django_assert_max_num_queries
):
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(action="export", what=f"export {i}", count=i, actor=coordinator, at=now) for i in range(120)
    )
    # session, user, coordinators group, count, the user's and their groups' permissions (the "Subject access"
    # button), the page of events with their actors
    with django_assert_max_num_queries(7):
        response = coordinator_client.get(AUDIT_URL, {"page": 2})
    assert "Page 2 of 3" in response.content.decode()
    with django_assert_max_num_queries(7):
        coordinator_client.get(AUDIT_URL, {"page": 99})  # past the end: the last page, not a 404


# --- The hooks: every bulk access in the apps reaches the audit -----------------------------------------------------
def _only_event():
    event = AuditEvent.objects.get()
    return event, f"{event.what} {json.dumps(event.detail)}"


def test_the_delegates_csv_export_is_audited_with_its_count_and_filter_names_never_their_values(
    coordinator_client, conference
):
    DelegateFactory(conference=conference, first_name="Ann", last_name="Zed")
    DelegateFactory(conference=conference, first_name="Bob", last_name="Zed")

    response = coordinator_client.get("/delegates/export.csv", {"q": "Ann"})
    b"".join(response.streaming_content)

    event, stored = _only_event()
    assert (event.action, event.what, event.count, event.actor.username) == ("export", "delegates CSV export", 1,
                                                                              "cora")  # fmt: skip
    assert event.detail["filters"] == ["q"] and "Ann" not in stored


def test_the_rota_csv_export_is_audited_with_the_rows_naming_a_volunteer(coordinator_client, conference):
    shift = ShiftFactory(conference=conference)
    Signup.objects.create(shift=shift, volunteer=VolunteerFactory(name="Val Example"), status="confirmed")

    coordinator_client.get("/shifts/rota/export.csv")

    event, stored = _only_event()
    assert (event.action, event.what, event.count) == ("export", "volunteer rota CSV export", 1)
    assert "Val" not in stored


def test_the_admins_csv_export_and_import_are_audited(coordinator, conference, rf):
    from django.contrib import admin

    from delegates.models import Delegate

    DelegateFactory.create_batch(3, conference=conference)
    model_admin = admin.site._registry[Delegate]
    request = rf.get("/admin/delegates/delegate/export/")
    request.user = coordinator
    model_admin.get_export_data(model_admin.get_export_formats()[0](), request, Delegate.objects.all())

    event, _ = _only_event()
    assert (event.action, event.what, event.count) == ("export", "delegates CSV export (admin)", 3)


def test_the_admins_import_is_audited_once_it_is_confirmed(coordinator, rf, monkeypatch):
    from types import SimpleNamespace

    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage

    from delegates.models import Organisation

    model_admin = admin.site._registry[Organisation]
    request = rf.post("/admin/delegates/organisation/process_import/")
    request.user, request.session = coordinator, {}
    request._messages = FallbackStorage(request)
    result = SimpleNamespace(totals={"new": 2, "update": 1, "skip": 0}, rows=[], has_errors=lambda: False)
    # No rows to log or announce in this stand-in result (the shared admin instance is restored afterwards).
    monkeypatch.setattr(model_admin, "generate_log_entries", lambda result, request: None)
    monkeypatch.setattr(model_admin, "add_success_message", lambda result, request: None)

    model_admin.process_result(result, request)

    event, _ = _only_event()
    assert (event.action, event.what, event.count, event.detail) == (
        "import",
        "organisations import (admin)",
        3,
        {"totals": {"new": 2, "update": 1}},
    )


def test_a_confirmed_import_is_audited_and_a_preview_or_a_dry_run_is_not(coordinator_client, conference, tmp_path):
    organisation = OrganisationFactory(name="Wirral West")
    csv_file = f"First name,Last name,CLP,Mobile\nAnn,Example,{organisation.name},07700 900123\n".encode()

    preview = coordinator_client.post(
        reverse("delegate-import"), {"kind": "delegates", "file": SimpleUploadedFile("d.csv", csv_file, "text/csv")}
    )
    assert not AuditEvent.objects.exists()
    coordinator_client.post(reverse("delegate-import"), {"confirm": preview.context["token"]})

    event, stored = _only_event()
    assert (event.action, event.what, event.count, event.actor.username) == ("import", "delegates import (page)", 1,
                                                                              "cora")  # fmt: skip
    assert event.detail["new"] == 1 and "Ann" not in stored and "900123" not in stored

    path = tmp_path / "d.csv"
    path.write_bytes(csv_file)
    call_command("import_delegates", str(path), "--dry-run", stdout=io.StringIO())
    assert AuditEvent.objects.count() == 1
    call_command("import_delegates", str(path), stdout=io.StringIO())
    assert AuditEvent.objects.latest("pk").what == "delegates import (command)"


def test_an_api_list_call_beyond_the_first_page_or_a_bigger_page_is_a_bulk_download(api_client, conference):
    DelegateFactory.create_batch(60, conference=conference)

    assert api_client.get("/api/delegates/").status_code == 200
    assert not AuditEvent.objects.exists()  # the first default page: what any screen reads

    api_client.get("/api/delegates/", {"page": 2})
    api_client.get("/api/delegates/", {"page_size": 200})

    second, bigger = AuditEvent.objects.order_by("pk")
    assert (second.action, second.what, second.count) == ("bulk_download", "API list of delegates, page 2", 10)
    assert (bigger.count, bigger.detail["total"]) == (60, 60)
