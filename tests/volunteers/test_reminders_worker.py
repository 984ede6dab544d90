"""Reminders through the real Celery path: a real `celery -A config worker` on its own redis-server runs the
beat task, which writes the texts, which the same worker then delivers (console backend).

The worker is another process, so time-machine cannot freeze its clock: the shift starts 30 minutes from the
real now, so the 1-hour rung is due and the evening-before rung is not. The rung logic itself is tested with
frozen time in test_reminders_and_replies.py.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from messaging.models import OutboundMessage
from tests.services import require_postgres, require_redis
from tests.support.celery_worker import celery_broker, database_url_from_connection, running_workers, worker_environment
from tests.support.processes import wait_until
from tests.support.redis_server import RedisServer
from tests.volunteers.support import ShiftFactory, VolunteerFactory
from volunteers import services, tasks
from volunteers.models import Signup

DONE = re.compile(r"send_due_reminders\[[^\]]+\] succeeded in [\d.]+s: (\d+)")


def results(log: str) -> list[str]:
    return DONE.findall(log)


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("processes"),  # a real worker and redis-server: queued with the drills
]


def test_a_real_worker_sends_the_due_rung_once_and_delivers_it(tmp_path, settings):
    require_postgres()
    require_redis()
    settings.SMS_BACKEND = "console"
    now = timezone.now()
    (tmp_path / "var").mkdir()
    with RedisServer(workdir=tmp_path) as server, celery_broker(server.url()):
        shift = ShiftFactory(starts_at=now + dt.timedelta(minutes=30), ends_at=now + dt.timedelta(hours=2))
        signup = services.sign_up(shift=shift, volunteer=VolunteerFactory(), source="public").signup
        cancelled = services.sign_up(shift=shift, volunteer=VolunteerFactory(), source="public").signup
        services.cancel_signup(signup=cancelled, source="public", enforce_cutoff=False)
        # They signed up yesterday, before the rung fell due (a rung due before the sign-up is never sent).
        Signup.objects.update(queued_at=now - dt.timedelta(days=1))
        env = worker_environment(
            database_url=database_url_from_connection(), redis_url=server.url(), var_dir=tmp_path / "var", rate=50
        )
        with running_workers(["reminders"], env, log_dir=tmp_path, lifetime=180) as workers:
            tasks.send_due_reminders.delay()
            tasks.send_due_reminders.delay()  # beat firing twice (or two beats): still one text per rung
            reminders = OutboundMessage.objects.filter(purpose=services.PURPOSE_REMINDER)
            delivered = wait_until(
                lambda: reminders.filter(status=OutboundMessage.Status.SENT).exists(), timeout=60, interval=0.5
            )
            assert delivered, workers[0].log()[-3000:]
            both_ran = wait_until(lambda: len(results(workers[0].log())) == 2, timeout=30, interval=0.5)
            assert both_ran, workers[0].log()[-3000:]
            assert sorted(results(workers[0].log())) == ["0", "1"]  # the second run found the text already there
    assert list(reminders.values_list("idempotency_key", flat=True)) == [f"volunteers:reminder:{signup.pk}:before-60m"]
    assert not reminders.filter(to=cancelled.volunteer.mobile).exists()
    assert Signup.objects.get(pk=signup.pk).status == Signup.Status.CONFIRMED
