"""Evidence is read-only in the admin for everyone, superusers included: no add, change or delete.

Walks every ModelAdmin (and its inlines) registered on the site; a model named in EVIDENCE must offer none of
them, neither in its has_*_permission answers nor when the add, change and delete forms are actually POSTed.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from messaging import services
from messaging.models import OptOutEvent
from tests.factories import SmsConsentFactory, UserFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("everyone_consents")

# Models whose rows are evidence (PECR consent and opt-outs, texts and their history, stance and sign-up history).
# Names of apps still being written are listed too: they are checked as soon as the model exists.
EVIDENCE = {
    "delegates.smsconsent",
    "messaging.optout",
    "messaging.optoutevent",
    "messaging.inboundmessage",
    "messaging.outboundmessage",
    "messaging.outboundstatuschange",
    "lobbying.stancechange",
    "lobbying.motionstatuschange",
    "lobbying.submissionstagechange",
    "lobbying.result",
    "lobbying.proposedstance",
    "volunteers.signupchange",
    "volunteers.volunteerconsent",
    "volunteers.signupevent",
    "volunteers.signuphistory",
    "privacy.auditevent",
}


def label(model):
    return model._meta.label_lower


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, password="!")


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def evidence_rows(db, sms, conference):
    """One row of each evidence model this codebase has so far, made through the services."""
    message = services.send_sms(to="+447700900001", body="Vote FOR", key="evidence:1", purpose="briefing")
    sms.run_queued()
    services.receive_inbound(from_number="+447700900002", to_number="+447700900999", body="FOR", provider_sid="SM1")
    services.opt_out("+447700900003", source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    SmsConsentFactory(delegate__conference=conference)
    return message


def registered_evidence_admins():
    for model, model_admin in admin.site._registry.items():
        if label(model) in EVIDENCE:
            yield model, model_admin


def test_every_evidence_model_that_exists_is_registered_in_the_admin():
    existing = {label(m) for m in apps.get_models()} & EVIDENCE
    registered = {label(m) for m, _ in registered_evidence_admins()}
    assert existing - registered == set()
    assert len(registered) >= 6


def test_no_evidence_admin_offers_add_change_or_delete_even_to_a_superuser(superuser, evidence_rows):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    offered = []
    for model, model_admin in registered_evidence_admins():
        obj = model._default_manager.first()
        for permission in ("add", "change", "delete"):
            if getattr(model_admin, f"has_{permission}_permission")(request, obj):
                offered.append((label(model), permission))
        if "delete_selected" in model_admin.get_actions(request):
            offered.append((label(model), "bulk delete"))
    assert offered == []


def test_no_inline_anywhere_lets_evidence_be_added_changed_or_deleted(superuser, evidence_rows):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    offered = []
    for model_admin in admin.site._registry.values():
        for inline in model_admin.get_inline_instances(request):
            if label(inline.model) not in EVIDENCE:
                continue
            for permission in ("add", "change", "delete"):
                if getattr(inline, f"has_{permission}_permission")(request, None):
                    offered.append((type(model_admin).__name__, label(inline.model), permission))
    assert offered == []


def test_posting_the_add_change_and_delete_forms_of_evidence_is_refused(superuser_client, evidence_rows):
    refused, allowed = [], []
    for model, _ in registered_evidence_admins():
        obj = model._default_manager.first()
        if obj is None:
            continue
        info = model._meta.app_label, model._meta.model_name
        before = model._default_manager.count()
        posts = {
            "add": reverse("admin:{}_{}_add".format(*info)),
            "change": reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
            "delete": reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]),
        }
        for action, url in posts.items():
            response = superuser_client.post(url, {"post": "yes"})
            (refused if response.status_code == 403 else allowed).append((label(model), action, response.status_code))
        bulk = superuser_client.post(
            reverse("admin:{}_{}_changelist".format(*info)),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert model._default_manager.count() == before, label(model)
        assert model._default_manager.filter(pk=obj.pk).exists(), (label(model), bulk.status_code)
    assert allowed == []
    assert len(refused) >= 18


def test_control_a_model_that_is_not_evidence_can_still_be_edited(superuser, conference):
    """The walk can fail: an ordinary model answers yes to the same questions."""
    from delegates.models import Conference

    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = admin.site._registry[Conference]
    assert model_admin.has_add_permission(request) and model_admin.has_delete_permission(request, conference)
