"""Celery tasks: take ids, call one service. ``execute_gate_run`` claims the run
by compare-and-set, and a finished run is never claimed, so a duplicate or
redelivered message does nothing twice (acks_late + reject_on_worker_lost are
global settings: a worker lost mid-run gets its message redelivered, and the
new delivery skips the steps already stored; a message that never comes back
is re-sent by the ``reclaim_stale_gate_runs_task`` sweep, scheduled in
config/schedules.py)."""
from celery import shared_task

from . import services


@shared_task
def gate_run_task(run_id):
    services.execute_gate_run(run_id=run_id)


@shared_task
def reclaim_stale_gate_runs_task():
    services.reclaim_stale_runs()
