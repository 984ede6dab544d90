"""Beat's daily retention run (see privacy.retention), and the re-link of erased opt-outs every few minutes."""

from celery import shared_task

from messaging import services as messaging
from privacy import retention, selectors


@shared_task(ignore_result=True, time_limit=3600)
def apply_retention() -> dict:
    """Anonymise conferences past their retention date; returns counts per conference id (no personal data)."""
    return {run.conference.pk: run.counts for run in retention.apply_retention() if run.total}


@shared_task(ignore_result=True, time_limit=300)
def relink_opt_outs() -> int:
    """The safety net behind every writer of a mobile: opt-outs kept only as a hash (the owner was erased) get
    their number back when a delegate or volunteer holds it again, e.g. after a raw UPDATE or a writer nobody
    wired to messaging.services.relink_opt_outs. One query when no row is hash-only (the usual case); otherwise
    the held numbers are hashed here, in Python: the hash key never goes to the database. Returns rows re-linked.
    """
    if not messaging.has_hash_only_opt_outs():
        return 0
    return messaging.relink_opt_outs(numbers=selectors.numbers_held(), via="sweep")
