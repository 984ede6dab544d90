"""Beat's briefing work: scheduled briefings sent when due, and sending ones marked sent once settled."""

from celery import shared_task

from lobbying import briefings


@shared_task(ignore_result=True, time_limit=120)
def send_due_briefings() -> dict:
    return briefings.send_due_briefings()
