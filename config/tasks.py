from celery import shared_task
from django.core.cache import cache


@shared_task(name="config.ping")
def ping(token: str) -> None:
    """Lets a health drill prove a worker consumes from the broker: it leaves ``token`` in the cache."""
    cache.set(f"cardvote:ping:{token}", "pong", timeout=300)
