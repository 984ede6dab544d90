"""One coordinator rule for every URL in the URLconf: pages, API, admin, API docs.

The walk builds a sample path for every pattern `get_resolver()` knows, so a new app's URLs are covered the day
they are mounted. Public URLs are the explicit allow-list below; everything else must refuse anonymous visitors
and every kind of non-coordinator.
"""

import io
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern
from rest_framework.test import APIClient
from rest_framework.views import APIView

from config.permissions import is_coordinator, is_public
from tests.factories import CoordinatorFactory, UserFactory

# Reachable without logging in, by URL name. Anything not here that answers an anonymous visitor fails the walk.
PUBLIC_VIEWS = {
    "healthz",
    "login",
    "logout",
    "admin:login",
    "twilio-inbound",
    "twilio-status",
    # Volunteers' sign-up pages, their own page by signed link, one-tap cover links.
    "volunteers:shift-list",
    "volunteers:shift-signup",
    "volunteers:my-shifts",
    "volunteers:my-shifts-ics",
    "volunteers:my-shift-cancel",
    "volunteers:my-shift-accept",
    "volunteers:cover",
    # A volunteer's lobbying assignment by signed, expiring, revocable link.
    "lobbying:volunteer-link",
    # The privacy notice, linked from every public form and a number's first campaign text.
    "privacy:notice",
    # The API's shift list: places left, no names (writes still need a coordinator: DRF permission).
    "api-shift-list",
    "api-shift-detail",
    "api-shift-location-list",
    "api-shift-location-detail",
}

# Coordinator pages that also need the data protection permission (privacy.data_protection): a coordinator
# without it gets 403 here; tests/privacy/test_access.py lets one with it in.
DATA_PROTECTION_VIEWS = {"privacy:access", "privacy:erase", "privacy:erase-done"}

# Values tried for URL parameters, by name first, then any that fits the parameter's pattern.
PREFERRED = {"format": ["json", ".json"], "kind": ["in"], "app_label": ["delegates"], "url": ["nowhere/"]}
GENERIC = ["1", "x", "json", "00000000-0000-0000-0000-000000000001"]


def _named_groups(regex: str):
    """(name, inner pattern, start, end) for each (?P<name>...) group, honouring nested parentheses."""
    for match in re.finditer(r"\(\?P<(\w+)>", regex):
        depth, i = 1, match.end()
        while depth:
            if regex[i] == "\\":
                i += 2
                continue
            depth += {"(": 1, ")": -1}.get(regex[i], 0)
            i += 1
        yield match.group(1), regex[match.end() : i - 1], match.start(), i


def _sample(name: str, pattern: str) -> str:
    for candidate in PREFERRED.get(name, []) + GENERIC:
        if re.fullmatch(pattern, candidate):
            return candidate
    raise AssertionError(f"No sample value for URL parameter {name!r} ({pattern}): add one to PREFERRED.")


def _sample_path(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        route = str(pattern)
        for name, converter in pattern.converters.items():
            value = _sample(name, converter.regex)
            route = re.sub(rf"<(?:\w+:)?{name}>", value, route)
        return route
    regex, out, last = pattern.regex.pattern, [], 0
    for name, inner, start, end in _named_groups(regex):
        out.append(regex[last:start])
        out.append(_sample(name, inner))
        last = end
    out.append(regex[last:])
    text = "".join(out).lstrip("^").rstrip("$").replace("/?", "/")
    return re.sub(r"\\(.)", r"\1", text)


def every_url():
    def walk(patterns, prefix):
        for entry in patterns:
            path = prefix + _sample_path(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, path)
            elif isinstance(entry, URLPattern):
                yield path, entry

    return sorted({path: entry for path, entry in walk(get_resolver().url_patterns, "/")}.items())


URLS = every_url()
PROTECTED = [(path, entry) for path, entry in URLS if resolve(path).view_name not in PUBLIC_VIEWS]


def is_api(path):
    view_class = getattr(resolve(path).func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


def test_the_walk_builds_a_path_that_resolves_to_each_pattern():
    assert len(URLS) > 50  # pages, API, admin
    for path, entry in URLS:
        assert resolve(path).func == entry.callback, f"{path} does not resolve to {entry}"


def test_the_walk_covers_the_pages_the_api_and_the_admin():
    paths = {path for path, _ in PROTECTED}
    assert {"/", "/delegates/", "/import/", "/api/delegates/", "/api/schema/", "/admin/"} <= paths


def test_every_view_the_middleware_lets_through_unchecked_is_on_the_allow_list():
    public = {resolve(path).view_name for path, _ in URLS if is_public(resolve(path))}
    assert public - PUBLIC_VIEWS == set()


def test_an_anonymous_visitor_is_sent_to_log_in_or_refused_on_every_protected_url(db, client):
    wrong = []
    for path, _ in PROTECTED:
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if is_api(path):
                refused = response.status_code in (401, 403)
            else:
                refused = response.status_code == 302 and response["Location"].startswith(("/login/", "/admin/login/"))
            if not refused:
                wrong.append((method, path, response.status_code))
    assert wrong == []


def _non_coordinators():
    coordinators = Group.objects.get_or_create(name=settings.COORDINATORS_GROUP)[0]
    # "!" is an unusable password: these users log in with force_login, and hashing one is slow.
    group_member_not_staff = UserFactory(username="grouped", password="!")
    group_member_not_staff.groups.add(coordinators)
    return {
        "logged in, no role": UserFactory(username="olly", password="!"),
        "staff, not in the group": UserFactory(username="staffer", is_staff=True, password="!"),
        "in the group, not staff": group_member_not_staff,
    }


@pytest.mark.parametrize("kind", ["logged in, no role", "staff, not in the group", "in the group, not staff"])
def test_every_kind_of_non_coordinator_gets_403_on_every_protected_url(db, kind):
    user = _non_coordinators()[kind]
    assert not is_coordinator(user)
    api = APIClient()
    api.force_login(user)
    wrong = []
    for path, _ in PROTECTED:
        for method in ("get", "post"):
            response = getattr(api, method)(path)
            if response.status_code != 403:
                wrong.append((method, path, response.status_code))
    assert wrong == []


def test_a_deactivated_coordinator_is_no_longer_a_coordinator(db):
    user = CoordinatorFactory(username="gone", password="!")
    user.is_active = False
    assert not is_coordinator(user)


def test_a_coordinator_is_let_into_every_page_api_and_the_admin_index(coordinator_client):
    wrong = []
    for path, _ in PROTECTED:
        if path.startswith("/admin/") and path != "/admin/":
            continue  # the admin refuses some actions to everyone (evidence): tested in test_admin_evidence
        response = coordinator_client.get(path)
        if resolve(path).view_name in DATA_PROTECTION_VIEWS:
            if response.status_code != 403:
                wrong.append((path, response.status_code))
        elif response.status_code in (401, 403) or (response.status_code == 302 and "login" in response["Location"]):
            wrong.append((path, response.status_code))
    assert wrong == []


def test_a_superuser_is_a_coordinator_without_the_group(db):
    assert is_coordinator(UserFactory(username="root", is_superuser=True, password="!"))


# --- An anonymous upload is refused before its body is read ------------------------------------------------


class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that counts how much of it the server reads."""

    def __init__(self, size):
        self.size, self.read_bytes = size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"x" * n
        self.read_bytes += n
        return n


def post_raw(path, body: CountingStream, **extra):
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="multipart/form-data; boundary=cardvote",
        CONTENT_LENGTH=str(body.size),
        **{"wsgi.input": body},
        **extra,
    )
    statuses = []
    response = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    response.close()
    return statuses[0], dict(response.items())


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_upload_is_refused_before_its_body_is_read():
    body = CountingStream(4 * 1024 * 1024)
    # A CSRF cookie too: CSRF's own check would read the form body looking for its token.
    status, headers = post_raw("/import/", body, HTTP_COOKIE=f"{settings.CSRF_COOKIE_NAME}={'a' * 32}")

    assert status.startswith("302")
    assert headers["Location"].startswith("/login/")
    assert body.read_bytes == 0


@pytest.mark.django_db(transaction=True)
def test_control_a_logged_in_coordinators_upload_is_read(client):
    """Proves the counting stream sees a read when one happens, so the test above can fail."""
    client.force_login(CoordinatorFactory(username="cora"))
    session_cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    body = CountingStream(64 * 1024)

    status, _ = post_raw("/import/", body, HTTP_COOKIE=f"{session_cookie}; {settings.CSRF_COOKIE_NAME}={'a' * 32}")

    assert body.read_bytes > 0, status


# --- Pages holding personal data are never stored by a browser or proxy -------------------------------------


@pytest.mark.parametrize("path", ["/", "/delegates/", "/admin/", "/messages/"])
def test_coordinator_pages_send_cache_control_no_store(coordinator_client, conference, path):
    response = coordinator_client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_api_responses_send_cache_control_no_store(api_client, conference):
    response = api_client.get("/api/delegates/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_refusal_of_a_protected_page_is_not_stored_either(client, db):
    assert "no-store" in client.get("/delegates/")["Cache-Control"]
