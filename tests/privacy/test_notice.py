"""The privacy notice: public, generated from settings, linked from every public page and form."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.config.test_settings import start_django
from tests.volunteers.support import ShiftFactory


def test_the_notice_is_public_and_says_who_what_why_how_long_and_which_rights(client, settings, db):
    settings.PRIVACY_ORGANISATION_NAME = "Free Movement Campaign"
    settings.PRIVACY_CONTACT = "privacy@freemovement.example.org"
    settings.PRIVACY_RETENTION_DAYS = 45

    response = client.get("/privacy/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Free Movement Campaign" in page
    assert 'href="mailto:privacy@freemovement.example.org"' in page
    assert "45 days after the conference ends" in page
    for must in ("What we hold", "political opinion", "Article 6(1)(a)", "Your rights", "reply STOP", "ico.org.uk"):
        assert must in page, must


def test_without_a_contact_setting_the_notice_says_to_ask_a_coordinator(client, settings, db):
    settings.PRIVACY_CONTACT = ""
    page = client.get(reverse("privacy:notice")).content.decode()
    assert "mailto:" not in page and "ask one of our coordinators" in page


def test_a_postal_contact_is_shown_as_text_not_as_a_mail_link(client, settings, db):
    settings.PRIVACY_CONTACT = "Data protection, 1 Campaign Street, Liverpool L1 1AA"
    page = client.get(reverse("privacy:notice")).content.decode()
    assert "1 Campaign Street" in page and "mailto:" not in page


def test_a_malformed_retention_setting_stops_start_up_naming_it(tmp_path):
    result = start_django(CARDVOTE_VAR_DIR=str(tmp_path), PRIVACY_RETENTION_DAYS="soon")
    assert result.returncode != 0 and "PRIVACY_RETENTION_DAYS" in result.stderr


@pytest.mark.django_db
def test_the_volunteer_sign_up_form_links_the_notice_beside_the_consent(client):
    shift = ShiftFactory(starts_at=timezone.now() + dt.timedelta(days=2))
    notice = reverse("privacy:notice")
    for path in (reverse("volunteers:shift-list"), reverse("volunteers:shift-signup", args=[shift.pk])):
        page = client.get(path).content.decode()
        assert f'href="{notice}"' in page, path
    signup = client.get(reverse("volunteers:shift-signup", args=[shift.pk])).content.decode()
    assert "How we use your data" in signup


def test_every_page_links_the_notice_in_its_footer(client, db):
    page = client.get(reverse("login")).content.decode()
    assert f'<footer class="site-footer"><a href="{reverse("privacy:notice")}">' in page
