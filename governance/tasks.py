"""Periodic governance jobs (scheduled in config/schedules.py). Thin: each calls
one service, which claims its work by compare-and-set, so a redelivered or
overlapping run changes nothing twice."""
from celery import shared_task

from . import services


@shared_task(acks_late=True)
def expire_due_versions_task():
    return services.expire_due_versions()


@shared_task(acks_late=True)
def notify_expiring_task(days=None):
    return services.notify_expiring(days)
