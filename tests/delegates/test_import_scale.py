"""Imports at conference scale: set-based (queries do not grow with rows), big files in the background with
progress, a row cap, and the pending upload held in the database (so a Redis outage does not matter)."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegates import imports
from delegates.imports import import_delegates
from delegates.models import Delegate, Organisation, PendingImport, SmsConsent
from tests.factories import DelegateFactory, OrganisationFactory
from tests.services import require_postgres

FIXTURES = Path(__file__).parent / "fixtures"


def party_file(organisations, rows: int, *, start: int = 0) -> bytes:
    """A party-style file: its own headings, an extra column, a consent on every third row."""
    lines = ["Forename,Surname,CLP,Mobile number,E-mail address,Notes,SMS consent wording"]
    for i in range(start, start + rows):
        organisation = organisations[i % len(organisations)]
        consent = "I agree to texts about conference votes" if i % 3 == 0 else ""
        lines.append(f"Del{i},Egate{i},{organisation.name},07700 9{i:05d},d{i}@example.org,note,{consent}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def organisations(db):
    return [OrganisationFactory(name=f"Constituency {i}", membership=5000) for i in range(40)]


def upload(client, data: bytes, kind="delegates"):
    return client.post(reverse("delegate-import"), {"kind": kind, "file": SimpleUploadedFile("big.csv", data)})


# --- Set-based: the number of queries does not grow with the rows ---------------------------------------


def _queries(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        report = callable_()
    assert report.ok, report.lines()
    return len(captured)


@pytest.mark.postgres
@pytest.mark.django_db
def test_preview_and_import_take_the_same_number_of_queries_for_10_or_200_rows(
    conference, organisations, django_assert_max_num_queries
):
    require_postgres()  # bulk writes are one statement each on PostgreSQL
    counts = {}
    for size, start in ((10, 0), (200, 1000)):
        # Half of each file updates delegates already there (found by mobile), half are new.
        existing = party_file(organisations, size // 2, start=start)
        assert import_delegates(data=existing, conference=conference).ok
        data = party_file(organisations, size, start=start).replace(b"example.org", b"example.net")
        counts[size] = (
            _queries(lambda data=data: import_delegates(data=data, conference=conference, dry_run=True)),
            _queries(lambda data=data: import_delegates(data=data, conference=conference)),
        )
    # Preview: remembered column choices, organisations, the conference's delegates, their live consents.
    # Import: the same four; a savepoint, one bulk insert, one bulk update; the consent service's savepoint,
    # live consents withdrawn, new ones inserted; both savepoints released.
    assert counts[10] == counts[200]
    with django_assert_max_num_queries(4):
        import_delegates(data=party_file(organisations, 50, start=5000), conference=conference, dry_run=True)
    with django_assert_max_num_queries(12):
        import_delegates(data=party_file(organisations, 50, start=5000), conference=conference)
    assert Delegate.objects.count() == 10 + 200 + 50


@pytest.mark.django_db
def test_a_big_import_writes_every_row_and_consent_correctly(conference, organisations):
    DelegateFactory(conference=conference, organisation=organisations[0], mobile="+447700900000", first_name="Old")

    report = import_delegates(data=party_file(organisations, 300), conference=conference)

    assert (report.new, report.updated, report.unchanged) == (299, 1, 0)
    assert Delegate.objects.count() == 300
    assert Delegate.objects.get(mobile="+447700900000").first_name == "Del0"
    assert SmsConsent.objects.filter(withdrawn_at__isnull=True).count() == 100
    again = import_delegates(data=party_file(organisations, 300), conference=conference)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 300)
    before = dict(Delegate.objects.values_list("pk", "updated_at"))
    edited = party_file(organisations, 300).replace(b"example.org", b"example.net").replace(b"Del5,", b"Dee5,")
    changed = import_delegates(data=edited, conference=conference)
    assert (changed.new, changed.updated, changed.unchanged) == (0, 300, 0)
    assert set(Delegate.objects.values_list("email", flat=True)) == {f"d{i}@example.net" for i in range(300)}
    assert Delegate.objects.get(mobile="+447700900005").first_name == "Dee5"
    assert Delegate.objects.get(mobile="+447700900006").first_name == "Del6"  # only the file's changes
    assert all(updated_at > before[pk] for pk, updated_at in Delegate.objects.values_list("pk", "updated_at"))


# --- A row cap, stated and refused clearly --------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_over_the_row_cap_is_refused_with_a_clear_message(
    coordinator_client, conference, organisations, settings
):
    settings.IMPORT_MAX_ROWS = 50

    response = upload(coordinator_client, party_file(organisations, 51))

    page = response.content.decode()
    assert "The file has more than 50 rows, the most one import takes" in page
    assert not PendingImport.objects.exists()
    assert Delegate.objects.count() == 0


# --- Big files run as a Celery task with progress -------------------------------------------------------


@pytest.fixture
def eager_celery():
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = old


@pytest.mark.django_db
def test_a_big_file_is_checked_and_imported_in_the_background_with_progress(
    coordinator_client, conference, organisations, settings, eager_celery
):
    settings.IMPORT_BACKGROUND_ROWS = 20
    data = party_file(organisations, 30).replace(b"Del6,", b"Del6,Extra,")  # one bad row (too many cells)

    response = upload(coordinator_client, data)

    pending = PendingImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("delegate-import-pending", args=[pending.token])
    progress = coordinator_client.get(reverse("delegate-import-progress", args=[pending.token])).json()
    assert progress == {"status": "ready", "done": 30, "total": 30}
    report_page = coordinator_client.get(response["Location"])
    page = report_page.content.decode()
    assert "Nothing was imported: 1 row has problems" in page
    assert "This row has 8 cells but the header has 7." in page  # the same line-numbered report
    assert "Import the 29 good rows and skip the 1 bad one" in page
    # The page lives at the upload's own address; its forms post to the import page.
    assert page.count('action="/import/"') == 3  # columns, confirm, cancel

    confirm = coordinator_client.post(reverse("delegate-import"), {"confirm": pending.token, "skip_bad_rows": "1"})

    assert confirm["Location"] == reverse("delegate-import-pending", args=[pending.token])
    assert PendingImport.objects.get().status == PendingImport.Status.DONE
    assert bytes(PendingImport.objects.get().data) == b""  # the file is not kept once imported
    done = coordinator_client.get(confirm["Location"], follow=True)
    assert "Imported delegates: 29 new, 0 updated, 0 unchanged; 1 bad row skipped." in done.content.decode()
    assert Delegate.objects.count() == 29
    assert not PendingImport.objects.exists()  # shown once, then deleted


@pytest.mark.django_db
def test_the_progress_page_shows_a_bar_while_a_worker_has_the_file(coordinator_client, conference, coordinator):
    pending = imports.start_pending_import(
        user=coordinator, kind="delegates", conference=conference, data=b"a,b\n" + b"1,2\n" * 10
    )
    PendingImport.objects.filter(pk=pending.pk).update(rows_done=4)

    page = coordinator_client.get(reverse("delegate-import-pending", args=[pending.token])).content.decode()

    assert '<progress id="import-progress"' in page
    assert 'value="4"' in page
    assert "js/import-progress" in page
    progress = coordinator_client.get(reverse("delegate-import-progress", args=[pending.token])).json()
    assert progress == {"status": "checking", "done": 4, "total": 10}


@pytest.mark.django_db
def test_another_coordinator_cannot_see_or_confirm_an_upload(
    coordinator_client, conference, organisations, second_coordinator, client
):
    token = upload(coordinator_client, party_file(organisations, 3)).context["token"]
    client.force_login(second_coordinator)

    assert client.get(reverse("delegate-import-pending", args=[token])).status_code == 404
    assert client.get(reverse("delegate-import-progress", args=[token])).status_code == 404
    assert "upload the file again" in client.post(reverse("delegate-import"), {"confirm": token}).content.decode()
    assert Delegate.objects.count() == 0


# --- The pending upload lives in the database, only as long as needed -----------------------------------


@pytest.mark.django_db
def test_preview_and_confirm_work_with_redis_down(coordinator_client, conference, organisations, settings):
    from tests.support.celery_worker import celery_broker
    from tests.support.processes import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
    with celery_broker(dead):
        preview = upload(coordinator_client, party_file(organisations, 5))
        assert preview.status_code == 200
        assert "Ready to import delegates: 5 new" in preview.content.decode()
        done = coordinator_client.post(reverse("delegate-import"), {"confirm": preview.context["token"]}, follow=True)

    assert "Imported delegates: 5 new" in done.content.decode()
    assert not PendingImport.objects.exists()  # deleted on confirm


@pytest.mark.django_db
def test_cancel_deletes_the_upload(coordinator_client, conference, organisations):
    token = upload(coordinator_client, party_file(organisations, 3)).context["token"]
    assert PendingImport.objects.filter(token=token).exists()

    response = coordinator_client.post(reverse("delegate-import"), {"cancel": token}, follow=True)

    assert "Import cancelled" in response.content.decode()
    assert not PendingImport.objects.exists()
    assert Delegate.objects.count() == 0


@pytest.mark.django_db
def test_stale_uploads_are_purged_by_the_beat_task(conference, coordinator, settings):
    from delegates.tasks import purge_stale_imports

    fresh = imports.start_pending_import(user=coordinator, kind="delegates", conference=conference, data=b"x")
    stale = imports.start_pending_import(user=coordinator, kind="delegates", conference=conference, data=b"y")
    PendingImport.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - dt.timedelta(hours=3))

    assert purge_stale_imports() == 1

    assert list(PendingImport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert settings.CELERY_BEAT_SCHEDULE["purge-stale-imports"]["task"] == "delegates.tasks.purge_stale_imports"


@pytest.mark.django_db
def test_an_organisation_file_over_a_tenth_of_the_threshold_goes_to_the_worker(
    coordinator_client, settings, eager_celery
):
    settings.IMPORT_BACKGROUND_ROWS = 20  # organisations: more than 2 rows
    data = (FIXTURES / "organisations_good.csv").read_bytes()

    response = upload(coordinator_client, data, kind="organisations")

    pending = PendingImport.objects.get()
    assert response["Location"] == reverse("delegate-import-pending", args=[pending.token])
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Ready to import organisations: 3 new, 0 updated, 0 unchanged." in page
    coordinator_client.post(reverse("delegate-import"), {"confirm": pending.token})
    done = coordinator_client.get(response["Location"], follow=True).content.decode()
    assert "Imported organisations: 3 new, 0 updated, 0 unchanged." in done
    assert Organisation.objects.count() == 3
