"""No coordinator page is wider than a 390-px phone: every named page without arguments, plus the detail and
edit pages of an organisation and a delegate with long unbroken names. The admin and the API are exempt."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver

from lobbying import briefings, replies
from lobbying import services as lobbying_services
from lobbying.models import Level
from messaging import services as messaging_services
from messaging.models import InboundMessage, OutboundMessage
from privacy.models import AuditEvent
from tests.browser.conftest import PASSWORD, SCREENSHOTS, log_in, watch_csp
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory, SmsConsentFactory, UnionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_WORD = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"
# Not coordinator pages (or not HTML): the admin, the API and its docs, webhooks, the health probe, logging in
# and out, downloads.
EXEMPT_PREFIXES = ("/admin/", "/api/", "/sms/", "/healthz", "/login/", "/logout/")


def _no_argument_paths(resolver=None, prefix="") -> set[str]:
    """Every URL pattern that takes no arguments, as a path: new pages are walked without editing this test."""
    resolver = resolver or get_resolver()
    paths = set()
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if "<" in route or "(?P" in route:
                continue
            paths |= _no_argument_paths(pattern, prefix + route.lstrip("^"))
        elif isinstance(pattern, URLPattern):
            if "<" in route or "(?P" in route or "(" in route:
                continue
            path = "/" + prefix + route.lstrip("^").rstrip("$").replace("\\", "")
            paths.add(path)
    return {p for p in paths if not p.startswith(EXEMPT_PREFIXES) and not p.endswith((".csv", ".ics", ".json"))}


@pytest.fixture
def seeded(db, conference):
    coordinator = CoordinatorFactory(username="coordinator", password=PASSWORD)
    # Sees the data protection pages too (subject access needs the permission), and an audit with events.
    coordinator.user_permissions.add(Permission.objects.get(codename="data_protection"))
    AuditEvent.objects.create(action="export", what=f"{LONG_WORD} CSV export", count=1300, actor=coordinator)
    organisation = OrganisationFactory(name=f"{LONG_WORD} and Ynys Môn Constituency Labour Party", membership=2100)
    UnionFactory(name="Unite the Union", short_name="Unite")
    for i in range(12):
        delegate = DelegateFactory(
            conference=conference,
            organisation=organisation,
            first_name=f"{LONG_WORD}{i}",
            last_name="Featherstonehaugh-Cholmondeley",
            email=f"{LONG_WORD.lower()}{i}@example-very-long-domain-name.org.uk",
        )
        if i % 2:
            SmsConsentFactory(delegate=delegate)
    sent = OutboundMessage.objects.create(
        idempotency_key="briefing:1:delegate:1", to=delegate.mobile, body="Vote FOR composite 3", purpose="briefing"
    )
    InboundMessage.objects.create(
        from_number=delegate.mobile, body=LONG_WORD * 2, provider_sid="SMwide1", in_reply_to=sent
    )
    InboundMessage.objects.create(  # flagged: its badge and one-tap button must fit too
        from_number=delegate.mobile,
        body="Can you remove me from the Tuesday shift",
        provider_sid="SMwide2",
        in_reply_to=sent,
        looks_like_opt_out=True,
    )
    # A draft (preview, send button) and a briefing being sent (bar, report) with long names in every list.
    coordinator = CoordinatorFactory()
    draft = briefings.compose_briefing(
        conference=conference, body=f"Hi {{first_name}}: {LONG_WORD}", created_by=coordinator
    )
    sending = briefings.compose_briefing(conference=conference, body="Vote FOR composite 3", created_by=coordinator)
    with mock.patch.object(messaging_services, "dispatch"):  # no worker here: nothing is published
        briefings.send_briefing(briefing=sending, sent_by=coordinator)
    texts = OutboundMessage.objects.filter(idempotency_key__startswith=f"briefing:{sending.pk}:").order_by("pk")
    OutboundMessage.objects.filter(pk__in=[t.pk for t in texts[:3]]).update(status="failed", error_code="30005")
    OutboundMessage.objects.filter(pk__in=[t.pk for t in texts[3:4]]).update(status="skipped", error_code="opted_out")
    InboundMessage.objects.create(
        from_number=texts[5].to, body=LONG_WORD * 2, provider_sid="SMwide3", in_reply_to=texts[5]
    )
    # A reply read as a stance: /lobbying/proposals/ shows the long names, the reply and the one-tap buttons.
    motion = lobbying_services.create_motion(
        conference=conference, title="Scrap the two-child benefit cap now", text="Conference notes."
    )
    said = InboundMessage.objects.create(
        from_number=delegate.mobile, body=f"FOR {LONG_WORD}", provider_sid="SMwide4", in_reply_to=sent
    )
    replies.propose_stance(inbound=said, delegate=delegate, motion=motion, level=Level.FOR)
    return {"organisation": organisation, "delegate": delegate, "briefings": [draft, sending]}


def test_every_coordinator_page_fits_a_390_px_phone(seeded, live_server, browser):
    organisation, delegate = seeded["organisation"], seeded["delegate"]
    paths = [
        *sorted(_no_argument_paths()),
        f"/organisations/{organisation.pk}/",
        f"/organisations/{organisation.pk}/edit/",
        f"/delegates/{delegate.pk}/",
        f"/delegates/{delegate.pk}/edit/",
        "/delegates/?q=Llan",
        *(f"/lobbying/briefings/{briefing.pk}/" for briefing in seeded["briefings"]),
    ]
    assert {"/", "/delegates/", "/organisations/", "/import/", "/messages/", "/lobbying/proposals/"} <= set(paths)

    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refusals = watch_csp(page)  # the walk also checks that no page breaks the Content-Security-Policy
    log_in(page, live_server.url, "/delegates/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    too_wide, visited = {}, []
    try:
        for path in paths:
            # POST-only actions (405) and downloads are not pages; a page must not answer 500.
            probe = context.request.get(f"{live_server.url}{path}", max_redirects=0)
            assert probe.status < 500, f"{path} answered {probe.status}"
            if probe.status != 200 or "text/html" not in (probe.headers.get("content-type") or ""):
                continue
            if 'name="viewport"' not in probe.text():
                continue  # a fragment a page loads into itself (htmx), not a page
            page.goto(f"{live_server.url}{path}")
            visited.append(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "dashboard"
            page.screenshot(path=str(SCREENSHOTS / f"phone-width-{name}.png"), full_page=True)
            if width > PHONE["width"]:
                too_wide[path] = width
            # A table that stacks into cards on a phone must fit without hiding text in a sideways scroll.
            cut = page.evaluate(
                "[...document.querySelectorAll('.table-wrap')]"
                ".filter(w => w.querySelector('.table-stack') && w.scrollWidth > w.clientWidth + 1).length"
            )
            if cut:
                too_wide[f"{path} (stacked table scrolls)"] = cut
    finally:
        context.close()
    assert {"/", "/delegates/", "/organisations/", "/messages/", f"/delegates/{delegate.pk}/edit/"} <= set(visited)
    assert "/lobbying/proposals/" in visited
    assert too_wide == {}, f"pages wider than a 390-px phone: {too_wide}"
    assert refusals == [], f"The Content-Security-Policy refused: {refusals}"


def test_the_navigation_folds_into_one_menu_on_a_phone(seeded, live_server, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "/delegates/")
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 80, f"the header takes {header['height']} px: the nav should fold"
        menu = page.locator(".site-menu > summary")
        assert menu.is_visible()
        assert not page.get_by_role("link", name="Organisations").is_visible()
        menu.click()
        page.get_by_role("link", name="Organisations").click()
        page.wait_for_url("**/organisations/")
    finally:
        context.close()


def test_a_subject_access_export_fits_a_390_px_phone_and_desktop(seeded, live_server, browser):
    """The export is a POST response, so the walk above only sees the empty form: fill it for a long-named person."""
    delegate = seeded["delegate"]
    for viewport_name, viewport in (("phone", PHONE), ("desktop", {"width": 1280, "height": 900})):
        context = browser.new_context(viewport=viewport, is_mobile=viewport_name == "phone")
        page = context.new_page()
        try:
            log_in(page, live_server.url, "/privacy/access/")
            page.get_by_label("Phone number or email address").fill(delegate.email)
            page.get_by_role("button", name="Show everything held").click()
            page.wait_for_selector(".subject-person")
            page.screenshot(path=str(SCREENSHOTS / f"subject-access-{viewport_name}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            assert page.get_by_text("Stance history").count() == 0  # none recorded for this delegate
            assert page.get_by_role("heading", name="Consent to texts (1)").count() == 1
        finally:
            context.close()
