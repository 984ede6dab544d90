"""An erased delegate who had texted STOP, entered again by any writer of a mobile, is not textable: the writer
puts the number back on the opt-out row (messaging.services.relink_opt_outs), and "can be texted" matches the
opt-out list by number only. No hash key, nor anything derived from it, ever reaches SQL."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delegates.imports import import_delegates
from delegates.models import Delegate, SmsConsent
from messaging import services as messaging
from messaging.models import OptOut, OptOutEvent
from messaging.privacy import _key, number_hash
from privacy import erasure
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory

pytestmark = pytest.mark.django_db
NUMBER = "+447700900777"
WORDING = "I agree to receive texts about conference votes. Reply STOP to stop."
CSV = (
    "first_name,last_name,organisation,mobile,sms_consent_method,sms_consent_wording\n"
    f"Eve,Back,Liverpool Walton,07700 900777,paper_form,{WORDING}\n"
).encode()


@pytest.fixture
def walton(db):
    return OrganisationFactory(name="Liverpool Walton", gss_code="E14001234", membership=1500)


@pytest.fixture
def erased(conference, walton, coordinator):
    return erase_eve(conference, walton, coordinator)


def erase_eve(conference, walton, coordinator) -> OptOut:
    """Eve consented, texted STOP and was erased on request: her opt-out survives only as the keyed hash."""
    eve = DelegateFactory(conference=conference, organisation=walton, first_name="Eve", mobile=NUMBER)
    SmsConsentFactory(delegate=eve)
    messaging.opt_out(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    erasure.erase(plan=erasure.plan_erasure(lookup=erasure.find_person(query=NUMBER)), actor=coordinator)
    row = OptOut.objects.get(number_hash=number_hash(NUMBER))
    assert (row.number, row.opted_out) == ("", True)
    return row


def eve_fields(walton) -> dict:
    """Eve as the delegate form and the admin's change form post her, with the erased number."""
    return {
        "organisation": walton.pk,
        "first_name": "Eve",
        "last_name": "Back",
        "gender": "woman",
        "seat_type": "ordinary",
        "is_attending": "on",
        "mobile": "07700 900777",
        "email": "",
        "notes": "",
    }


def form_post(client, walton):
    data = {
        **eve_fields(walton),
        "consent_action": "record",
        "consent_method": "paper_form",
        "consent_wording": WORDING,
    }
    assert client.post(reverse("delegate-create"), data).status_code == 302


def api_post(client, walton):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(client.coordinator)
    response = api.post(
        reverse("api-delegate-list"),
        {"organisation": walton.pk, "first_name": "Eve", "last_name": "Back", "mobile": "07700 900777"},
        format="json",
    )
    assert response.status_code == 201, response.json()


def admin_add(client, walton):
    data = {
        **eve_fields(walton),
        "conference": Delegate.objects.values_list("conference", flat=True).first(),
        "sms_consents-TOTAL_FORMS": "0",
        "sms_consents-INITIAL_FORMS": "0",
    }
    assert client.post(reverse("admin:delegates_delegate_add"), data).status_code == 302


def import_page(client, walton):
    report = import_delegates(data=CSV, conference=Delegate.objects.first().conference)
    assert report.ok and report.new == 1, report.lines()


def admin_import(client, walton):
    upload = {"import_file": SimpleUploadedFile("file.csv", CSV, "text/csv"), "format": "0", "resource": "0"}
    preview = client.post(reverse("admin:delegates_delegate_import"), upload)
    assert "confirm_form" in preview.context, preview.content.decode()[:2000]
    assert not OptOut.objects.exclude(number="").exists()  # the preview was rolled back, re-link with it
    done = client.post(reverse("admin:delegates_delegate_process_import"), preview.context["confirm_form"].initial)
    assert done.status_code == 302


def update_form(client, walton):
    """An existing delegate (no mobile yet) given the erased number on the edit page."""
    other = DelegateFactory(
        conference=Delegate.objects.first().conference, organisation=walton, first_name="Eve", mobile=""
    )
    data = {**eve_fields(walton), "consent_action": ""}
    assert client.post(reverse("delegate-update", args=[other.pk]), data).status_code == 302


WRITERS = [form_post, update_form, api_post, admin_add, import_page, admin_import]


@pytest.mark.parametrize("writer", WRITERS, ids=[w.__name__ for w in WRITERS])
def test_an_erased_delegate_who_opted_out_entered_again_gets_the_opt_out_back_and_is_not_textable(
    writer, erased, walton, coordinator_client, coordinator
):
    coordinator_client.coordinator = coordinator
    writer(coordinator_client, walton)

    back = Delegate.objects.get(mobile=NUMBER)
    if not SmsConsent.objects.filter(delegate=back, withdrawn_at__isnull=True).exists():
        SmsConsentFactory(delegate=back)  # the API and admin take no consent: give one, so only the STOP decides
    erased.refresh_from_db()
    assert (erased.number, erased.opted_out) == (NUMBER, True)
    assert OptOutEvent.objects.filter(opt_out=erased, number=NUMBER, action=OptOutEvent.Action.RELINK).exists()
    row = Delegate.objects.with_can_be_texted().get(pk=back.pk)
    assert (row.has_sms_consent, row.is_opted_out, row.can_be_texted) == (True, True, False)
    assert not Delegate.objects.textable().filter(pk=back.pk).exists()


def test_a_later_erasure_blanks_the_relinked_number_again(erased, walton, coordinator_client, coordinator):
    form_post(coordinator_client, walton)
    assert OptOut.objects.get().number == NUMBER

    erasure.erase(plan=erasure.plan_erasure(lookup=erasure.find_person(query=NUMBER)), actor=coordinator)

    assert OptOut.objects.get().number == ""
    assert set(OptOutEvent.objects.values_list("number", flat=True)) == {""}


def test_adding_a_delegate_runs_a_fixed_number_of_queries_one_of_them_the_opt_out_relink(
    conference, walton, coordinator_client, django_assert_num_queries
):
    form_post(coordinator_client, walton)  # warm: content types and the like, cached once per process
    Delegate.objects.all().delete()
    # session, user, coordinators group, current conference, the organisation choice, the organisation again
    # (model clean), the duplicate-mobile check, the organisation exists (FK check), SAVEPOINT, INSERT delegate,
    # the hash-only opt-outs for this mobile (re-link: none), SAVEPOINT (consent service), withdraw any live
    # consent, INSERT consent, two RELEASE SAVEPOINT
    with django_assert_num_queries(16):
        form_post(coordinator_client, walton)


# --- No key material in SQL -------------------------------------------------------------------------------------


def key_material() -> list[str | bytes]:
    """The key and what the database was once given of it: HMAC-SHA256's two pads (RFC 2104), as bytes and hex."""
    key = _key()
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner, outer = bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)
    return [_key(), _key().decode(), inner, outer, inner.hex(), outer.hex()]


def _contains(value, secret) -> bool:
    """Whether a statement or parameter holds the secret: bytes as they are, or written out in hex."""
    if isinstance(value, list | tuple):
        return any(_contains(v, secret) for v in value)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        return (secret if isinstance(secret, bytes) else secret.encode()) in value
    return isinstance(value, str) and (secret.hex() if isinstance(secret, bytes) else secret) in value


@pytest.mark.parametrize("key", ["", "a configured key"], ids=["derived-from-secret-key", "OPT_OUT_HASH_KEY"])
def test_no_key_material_reaches_sql_in_textable_counts_or_the_delegate_list(
    key, settings, conference, walton, coordinator, coordinator_client
):
    settings.OPT_OUT_HASH_KEY = key
    erase_eve(conference, walton, coordinator)
    form_post(coordinator_client, walton)
    secrets = key_material()
    assert secrets[0] and secrets[2] != secrets[3]

    with CaptureQueriesContext(connection) as captured:
        list(Delegate.objects.textable())
        list(Delegate.objects.not_textable())
        Delegate.objects.textable().count()
        page = coordinator_client.get(reverse("delegate-list"))
    assert page.status_code == 200 and "Opted out" in page.content.decode()

    assert captured.captured_queries
    for query in captured.captured_queries:
        for secret in secrets:
            assert not _contains(query["sql"], secret), query["sql"][:200]
    # The SQL Django logs interpolates the parameters; check the raw parameters as well.
    with connection.execute_wrapper(_params_checker(secrets)):
        list(Delegate.objects.textable())
        Delegate.objects.not_textable().count()
        coordinator_client.get(reverse("delegate-list"))


def _params_checker(secrets):
    def check(execute, sql, params, many, context):
        for secret in secrets:
            assert not _contains(sql, secret) and not _contains(list(params or ()), secret)
        return execute(sql, params, many, context)

    return check
