"""Background scorecard work. Thin: each task calls one function."""
from celery import shared_task

from . import receivers


@shared_task(acks_late=True)
def record_snapshots_task(version_ids):
    """Record the snapshots of versions a set-based job moved (idempotent: an
    unchanged verdict writes nothing, so a redelivery is harmless)."""
    for version_id in version_ids:
        receivers.record_snapshots(version_id)
    return len(version_ids)
