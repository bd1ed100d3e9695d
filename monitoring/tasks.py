"""Celery tasks: take ids, call one service. Runs claim their row by
compare-and-set, so a redelivered message never stores results twice."""
from celery import shared_task

from . import services


@shared_task
def run_monitor_task(run_id):
    services.execute_run(run_id=run_id)


@shared_task
def run_scheduled_monitor_task(monitor_id):
    """Sent by django-celery-beat from the monitor's PeriodicTask."""
    services.run_scheduled(monitor_id=monitor_id)


@shared_task
def reclaim_stale_runs_task():
    services.reclaim_stale_runs()
