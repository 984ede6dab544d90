"""/healthz: 200 when the database and the Celery broker answer, 503 otherwise (for load balancers).

The body also says what needs a person even while the probe passes: texts stuck in the outbox
(queued for minutes: no worker is taking them). That stays a 200, so a load balancer does not pull
a healthy web server out of service because the workers are missing.
"""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:
        logger.warning("healthz: database unreachable", exc_info=True)
        return False


def broker_ok(url: str | None = None) -> bool:
    from config.celery import app

    try:
        with app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return True
    except Exception:
        logger.warning("healthz: broker unreachable", exc_info=True)
        return False


def outbox_report() -> tuple[dict, str]:
    from messaging.selectors import stuck_outbox

    stuck = stuck_outbox()
    return {"stuck": stuck.count, "oldest_stuck_seconds": stuck.oldest_seconds}, stuck.describe() if stuck else ""


@never_cache
@require_GET
def healthz(request):
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", **{k: "ok" if v else "down" for k, v in checks.items()}}
    if checks["database"]:
        body["outbox"], warning = outbox_report()
        body["warnings"] = [warning] if warning else []
    return JsonResponse(body, status=200 if healthy else 503)
