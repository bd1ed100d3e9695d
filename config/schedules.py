"""Every periodic job of the registry, in one place.

``sync_schedules()`` writes them as django-celery-beat PeriodicTask rows
(idempotent: it creates or updates by name). It runs after every ``migrate``
(governance's post_migrate handler), so ``scripts/run.sh`` and deployments pick
up changes; staff see and may change the rows in the admin (Periodic tasks), and
a sync does not reset a schedule staff disabled.
Apps add their entries to SCHEDULES (name -> task, crontab, kwargs).
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Schedule:
    task: str
    minute: str = "0"
    hour: str = "*"
    kwargs: dict = field(default_factory=dict)
    description: str = ""


SCHEDULES = {
    # Daily 00:15 UTC: approved versions past their manifest's expiry date become expired.
    "governance: expire due versions": Schedule(
        task="governance.tasks.expire_due_versions_task", minute="15", hour="0",
        description="Expire approved versions past their expiry date.",
    ),
    # Daily 07:00 UTC: owners hear EXPIRY_NOTICE_DAYS before expiry (notice + e-mail, once per version).
    "governance: notify expiring versions": Schedule(
        task="governance.tasks.notify_expiring_task", minute="0", hour="7",
        description="Notify owners of approved versions expiring soon.",
    ),
    # Every 10 minutes: monitor runs whose worker died mid-run are re-queued (or errored after 3 tries).
    # Each monitor's own schedule is a PeriodicTask written by monitoring.services (one per monitor).
    "monitoring: reclaim stale runs": Schedule(
        task="monitoring.tasks.reclaim_stale_runs_task", minute="*/10",
        description="Re-queue monitor runs left running by a lost worker.",
    ),
    # Every 10 minutes: gate runs with no stored step for 30 minutes are re-queued (or failed after 3 tries).
    "gates: reclaim stale runs": Schedule(
        task="gates.tasks.reclaim_stale_gate_runs_task", minute="*/10",
        description="Re-queue gate runs left running by a lost worker.",
    ),
}


def sync_schedules():
    """Create or update one PeriodicTask per entry; returns the names written."""
    import json

    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for name, entry in SCHEDULES.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=entry.minute, hour=entry.hour, day_of_week="*", day_of_month="*", month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": entry.task, "crontab": crontab, "kwargs": json.dumps(entry.kwargs),
                      "description": entry.description},
        )
    return list(SCHEDULES)
