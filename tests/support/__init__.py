"""Harnesses for drills against real services: Celery workers and a redis-server of the test's own."""
