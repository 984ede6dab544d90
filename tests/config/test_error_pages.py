import pytest


@pytest.mark.django_db
def test_a_non_coordinator_gets_a_403_page_that_says_why(outsider_client):
    response = outsider_client.get("/delegates/")
    assert response.status_code == 403
    assert b"This page is for coordinators" in response.content
    assert b"olly" in response.content


@pytest.mark.django_db
def test_an_unknown_address_gets_a_friendly_404(coordinator_client):
    response = coordinator_client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.mark.django_db
def test_an_api_address_no_route_matches_gets_a_json_404(api_client):
    response = api_client.get("/api/delegates/1.5/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
