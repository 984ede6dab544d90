"""A big file goes to a real `celery -A config worker` (its own redis-server as broker) and comes back with
the same line-numbered report; confirming it imports every good row in the worker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from delegates.models import Delegate, PendingImport
from tests.delegates.test_import_scale import party_file
from tests.factories import OrganisationFactory
from tests.services import require_postgres
from tests.support.celery_worker import CeleryWorker, celery_broker, database_url_from_connection, worker_environment
from tests.support.processes import wait_until
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_big_file_is_checked_and_imported_by_a_real_worker(coordinator_client, conference, settings, tmp_path):
    require_postgres()
    organisations = [OrganisationFactory(name=f"Constituency {i}", membership=5000) for i in range(20)]
    settings.IMPORT_BACKGROUND_ROWS = 100
    data = party_file(organisations, 400).replace(b"Del9,", b"Del9,Extra,")  # line 11: one cell too many
    (tmp_path / "redis").mkdir()
    with RedisServer(workdir=tmp_path / "redis") as redis_server, celery_broker(redis_server.url()):
        env = worker_environment(
            database_url=database_url_from_connection(),
            redis_url=redis_server.url(),
            var_dir=tmp_path,
            rate=1,
            extra={"IMPORT_BACKGROUND_ROWS": "100"},
        )
        with CeleryWorker("imports", env, log_dir=tmp_path, queues=None, lifetime=180) as worker:
            worker.wait_ready()
            response = coordinator_client.post(
                reverse("delegate-import"), {"kind": "delegates", "file": SimpleUploadedFile("big.csv", data)}
            )
            pending = PendingImport.objects.get()
            assert response["Location"] == reverse("delegate-import-pending", args=[pending.token])
            progress = reverse("delegate-import-progress", args=[pending.token])

            def status():
                return coordinator_client.get(progress).json()["status"]

            assert wait_until(lambda: status() == "ready", timeout=60, interval=0.5), worker.log()[-2000:]
            page = coordinator_client.get(response["Location"]).content.decode()
            assert "Nothing was imported: 1 row has problems" in page
            assert "Line</span> <span>11</span>" in page
            assert "Import the 399 good rows and skip the 1 bad one" in page

            coordinator_client.post(reverse("delegate-import"), {"confirm": pending.token, "skip_bad_rows": "1"})
            assert wait_until(lambda: status() == "done", timeout=60, interval=0.5), worker.log()[-2000:]

    done = coordinator_client.get(response["Location"], follow=True).content.decode()
    assert "Imported delegates: 399 new, 0 updated, 0 unchanged; 1 bad row skipped." in done
    assert Delegate.objects.count() == 399
    assert not PendingImport.objects.exists()
