"""Celery tasks: take ids, call one service. ``run_ingestion`` claims its job by
compare-and-set and commits rows and status together, so a redelivered message
never writes a row twice."""
from celery import shared_task

from . import services


@shared_task
def ingest_examples_task(job_id):
    services.run_ingestion(job_id=job_id)
