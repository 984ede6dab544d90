"""Beat's daily retention run (see privacy.retention)."""

from celery import shared_task

from privacy import retention


@shared_task(ignore_result=True, time_limit=3600)
def apply_retention() -> dict:
    """Anonymise conferences past their retention date; returns counts per conference id (no personal data)."""
    return {run.conference.pk: run.counts for run in retention.apply_retention() if run.total}
