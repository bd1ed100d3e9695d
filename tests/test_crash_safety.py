"""A real Celery worker SIGKILLed in the middle of a job (Redis broker in CI,
the filesystem transport on a laptop): nothing half-written survives, and the
job completes.

Two crashes: the pool process running the job dies (the OOM killer's choice):
the worker's main process requeues the message (acks_late +
reject_on_worker_lost) and the job completes with no one's help. The whole
worker dies: the message stays unacknowledged until the broker's visibility
timeout, so after the restart the job is sent again (what an operator or the
next beat tick does); its claim is a compare-and-set, so either delivery is safe.

A gate run killed mid-way keeps only whole steps (a step and its rejections
commit together) and is finished by the redelivered message, which skips the
stored steps. The monitor run's crash is tests/test_monitoring_worker.py
(test_a_worker_killed_mid_run_leaves_nothing_half_stored); its figures count here.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from gates import services as gate_services
from gates.models import GateRun, GateStepResult, Rejection
from registry import services as registry_services
from registry import tasks as registry_tasks
from registry.models import Example, IngestionJob

from .conftest import wait_until
from .gates_helpers import gated_version
from .lineage_helpers import build_lineage_world, synthetic_row, write_jsonl
from .reliability_helpers import record_figure

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROWS = 30_000
# How long a restarted worker gets to pick up the redelivered message before the job is sent again.
REDELIVERY_WAIT = 15
GATE_POOL = 40_000


def kill_pool_process(worker):
    """SIGKILL the prefork child running tasks; the main worker process survives."""
    pid = worker.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children, "the worker has no pool process"
    for child in children:
        os.kill(int(child), signal.SIGKILL)


@pytest.mark.parametrize("crash", ["pool process", "whole worker"])
def test_an_ingest_killed_mid_way_writes_nothing_then_completes(crash, celery_worker_process, alice, tenant_a,
                                                                 tmp_path):
    world = build_lineage_world(alice, tenant_a, tmp_path)
    rows = (synthetic_row(i, text=f"Ticket {i}: please erase my personal data, reference {i * 7919}")
            for i in range(ROWS))
    path = write_jsonl(tmp_path / "big.jsonl", rows)
    job = registry_services.register_examples_file(actor=alice, version=world.version, path=path, source="api")
    registry_tasks.ingest_examples_task.delay(job.pk)

    def progress():
        return IngestionJob.objects.get(pk=job.pk).rows_processed

    assert wait_until(lambda: progress() > 0, timeout=120, interval=0.1), celery_worker_process.log_path.read_text()
    if crash == "pool process":
        kill_pool_process(celery_worker_process)
    else:
        celery_worker_process.kill()
    time.sleep(0.5)
    killed = IngestionJob.objects.get(pk=job.pk)
    assert killed.status == "running" and 0 < killed.rows_processed < ROWS, (killed.status, killed.rows_processed)
    assert Example.objects.filter(version=world.version).count() == 0, "a killed ingestion left rows behind"
    assert killed.rows_written == 0
    if crash == "whole worker":
        celery_worker_process.start()

    def finished():
        return IngestionJob.objects.get(pk=job.pk).status in ("succeeded", "failed")

    redelivered = wait_until(finished, timeout=REDELIVERY_WAIT)
    if crash == "pool process":
        assert redelivered, "the surviving worker did not requeue the message of its lost pool process"
    else:
        registry_tasks.ingest_examples_task.delay(job.pk)  # the operator's re-run
    assert wait_until(finished, timeout=240), celery_worker_process.log_path.read_text()[-3000:]
    done = IngestionJob.objects.get(pk=job.pk)
    assert done.status == "succeeded", done.errors
    assert done.rows_written == ROWS == Example.objects.filter(version=world.version).count()
    ordinals = Example.objects.filter(version=world.version).order_by("ordinal").values_list("ordinal", flat=True)
    assert ordinals[0] == 1 and ordinals[ROWS - 1] == ROWS  # written once, contiguous
    record_figure(f"crash_ingest_{crash.replace(' ', '_')}", {"crashes": 1, "rows": ROWS, "killed_at_rows_processed": killed.rows_processed,
                                   "redelivered_by_broker": redelivered, "examples_lost_or_duplicated": 0})


def steps_are_whole(run_id):
    """Each stored gate step has exactly the rejections it counted (a step and
    its rejections commit together)."""
    for result in GateStepResult.objects.filter(run_id=run_id):
        stored = Rejection.objects.filter(run_id=run_id, position=result.position).count()
        assert stored == result.count_in - result.count_out, (result, stored)
    return GateStepResult.objects.filter(run_id=run_id).count()


def test_a_gate_run_killed_mid_way_keeps_whole_steps_then_completes(celery_worker_process, alice, tenant_a):
    rows = [(f"Synthetic ticket {i}: my card {i % 97} was charged twice for order {i % 4000}", "billing")
            for i in range(GATE_POOL)]
    version = gated_version(alice, tenant_a, rows=rows)
    gate_services.configure_cascade(actor=alice, dataset=version.dataset,
                                    steps=[{"gate": "format"}, {"gate": "exact_dedup"}, {"gate": "near_dup"}])
    run = gate_services.start_gate_run(actor=alice, version=version)
    assert wait_until(lambda: GateStepResult.objects.filter(run_id=run.pk).exists(), timeout=120, interval=0.05)
    kill_pool_process(celery_worker_process)
    time.sleep(0.5)
    killed = GateRun.objects.get(pk=run.pk)
    assert killed.status == "running", killed.status
    steps_at_crash = steps_are_whole(run.pk)

    assert wait_until(lambda: GateRun.objects.get(pk=run.pk).status in ("succeeded", "failed"), timeout=240), \
        celery_worker_process.log_path.read_text()[-3000:]
    done = GateRun.objects.get(pk=run.pk)
    assert done.status == "succeeded" and steps_are_whole(run.pk) == 3
    assert list(done.results.values_list("position", flat=True)) == [1, 2, 3]
    record_figure("crash_gate_run", {"crashes": 1, "pool": len(rows), "steps_stored_at_crash": steps_at_crash,
                                     "redelivered_by_broker": True, "half_written_steps": 0})
