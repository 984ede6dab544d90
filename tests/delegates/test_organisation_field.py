"""The delegate form's organisation is typed and picked from a list, not chosen from a 664-option select."""

import pytest
from django.urls import reverse

from delegates.models import Delegate
from tests.factories import OrganisationFactory, UnionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def walton(conference):
    UnionFactory(name="Unite the Union", short_name="Unite")
    return OrganisationFactory(name="Liverpool Walton", gss_code="E14001346")


def _post(client, organisation_text, **extra):
    data = {
        "organisation": organisation_text,
        "first_name": "Nadia",
        "last_name": "Okafor",
        "gender": "woman",
        "seat_type": "ordinary",
        "is_attending": "on",
        "consent_action": "",
        **extra,
    }
    return client.post(reverse("delegate-create"), data)


def test_the_form_offers_a_searchable_text_box_with_every_organisation_not_a_select(coordinator_client, walton):
    html = coordinator_client.get(reverse("delegate-create")).content.decode()
    assert '<select name="organisation"' not in html
    assert 'list="organisation-options"' in html and '<datalist id="organisation-options">' in html
    assert '<option value="Liverpool Walton">' in html and '<option value="Unite the Union">' in html


@pytest.mark.parametrize("typed", ["Liverpool Walton", "  liverpool   walton ", "E14001346"])
def test_a_typed_name_in_any_case_or_the_gss_code_picks_the_organisation(coordinator_client, walton, typed):
    response = _post(coordinator_client, typed)
    assert response.status_code == 302
    assert Delegate.objects.get(first_name="Nadia").organisation == walton


def test_a_short_name_picks_an_affiliate(coordinator_client, walton):
    assert _post(coordinator_client, "unite").status_code == 302
    assert Delegate.objects.get(first_name="Nadia").organisation.name == "Unite the Union"


def test_an_unknown_organisation_is_a_clear_field_error_and_keeps_what_was_typed(coordinator_client, walton):
    response = _post(coordinator_client, "Liverpool Waltn")
    assert response.status_code == 200
    errors = response.context["form"].errors["organisation"]
    assert errors == [
        "No organisation called “Liverpool Waltn”. Pick one from the list as you type, or add the organisation first."
    ]
    html = response.content.decode()
    assert 'value="Liverpool Waltn"' in html and 'value="Nadia"' in html


def test_editing_shows_the_organisations_name_and_the_add_form_can_start_from_one(coordinator_client, walton):
    html = coordinator_client.get(reverse("delegate-create"), {"organisation": walton.pk}).content.decode()
    assert 'name="organisation" value="Liverpool Walton"' in html
