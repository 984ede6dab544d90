"""No 500 from user input, ever: a sweep of malformed queries and bodies across pages and the API."""

import pytest

pytestmark = pytest.mark.django_db

BAD_QUERIES = [
    "/delegates/?organisation=abc",
    "/delegates/?page=abc",
    "/delegates/?page=99999",
    "/delegates/?region=Mars",
    "/delegates/?has_sms_consent=maybe",
    "/delegates/?q=" + "x" * 5000,
    "/delegates/export.csv?organisation=abc",
    "/organisations/?kind=zzz",
    "/organisations/999999/",
    "/delegates/999999/",
    "/messages/?page=-1",
    "/messages/number/in/99999/",
    "/api/delegates/?organisation=abc",
    "/api/delegates/?conference=abc",
    "/api/delegates/?page=abc",
    "/api/organisations/?ordering=nonsense",
]


@pytest.mark.parametrize("url", BAD_QUERIES)
def test_a_malformed_query_never_gets_a_server_error(coordinator_client, conference, url):
    assert coordinator_client.get(url).status_code < 500


BAD_API_BODIES = [
    ("/api/organisations/", {"name": "X", "kind": "x", "membership": "lots"}),
    ("/api/organisations/", {"name": "", "kind": "clp", "membership": -5}),
    ("/api/delegates/", {"first_name": "A", "last_name": "B", "organisation": "abc", "is_attending": "maybe"}),
    ("/api/delegates/", {"first_name": "A" * 500, "last_name": "B", "organisation": 1, "mobile": "+" * 100}),
    ("/api/delegates/", ["not", "an", "object"]),
    ("/api/delegates/", {"first_name": None, "last_name": {"a": 1}, "organisation": [1]}),
]


@pytest.mark.parametrize(("url", "body"), BAD_API_BODIES)
def test_a_malformed_api_body_gets_a_400(api_client, conference, url, body):
    response = api_client.post(url, body, format="json")
    assert response.status_code == 400
    assert response.json()


@pytest.mark.parametrize("url", ["/delegates/new/", "/organisations/new/"])
def test_a_malformed_form_is_shown_again_with_errors(coordinator_client, conference, url):
    data = {"organisation": "abc", "first_name": "x" * 1000, "mobile": "\x00", "membership": "1e99", "kind": "z"}
    response = coordinator_client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors
