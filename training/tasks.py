"""Celery tasks: take ids, call one service. Both services claim their row by
compare-and-set, so a redelivered message does nothing twice."""
from celery import shared_task

from . import services


@shared_task
def run_leakage_scan_task(scan_id):
    services.run_leakage_scan(scan_id=scan_id)


@shared_task
def build_mix_task(build_id):
    services.run_mix_build(build_id=build_id)
