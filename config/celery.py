"""The Celery app. Settings live in config/settings.py under the CELERY_ prefix."""

import logging.config
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cardvote")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def log_like_the_web_processes(logger=None, **kwargs):
    """With LOG_FORMAT=json (production's default), workers and beat log JSON lines through settings.LOGGING,
    its filters included, instead of Celery's own format; plain mode keeps Celery's familiar lines."""
    from django.conf import settings

    if settings.LOG_FORMAT != "json":
        return
    if logger is logging.getLogger():
        logging.config.dictConfig(settings.LOGGING)
    elif logger is not None:  # the task logger: its records go to the root's JSON handler
        logger.handlers.clear()
        logger.propagate = True
