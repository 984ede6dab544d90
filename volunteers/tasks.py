"""Beat runs these every minute on the default queue; both are safe to run twice at once (row locks, keys)."""

from celery import shared_task

from volunteers import services


@shared_task(name="volunteers.tasks.expire_offers")
def expire_offers() -> int:
    return services.expire_offers()


@shared_task(name="volunteers.tasks.send_due_reminders")
def send_due_reminders() -> int:
    return services.send_due_reminders()
