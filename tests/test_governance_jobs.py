"""The clock: expiry and expiry notices, set-based and idempotent, in-process
and on a real Celery worker; the schedules in django-celery-beat."""
import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import selectors, services, tasks
from governance.models import ExpiryNotice, Notice, Transition
from registry.models import DatasetVersion
from scorecard.models import ScorecardSnapshot

from .conftest import wait_until
from .factories import make_dataset
from .test_governance_workflow import (  # noqa: F401 (fixtures)
    approved_version, fast_passwords, gwen, lena, move_past_expiry, reviewers, soon,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


def approved(alice, tenant, reviewers, **manifest):
    return approved_version(alice, make_dataset(alice, tenant), reviewers, **manifest)


def states(*versions):
    return [DatasetVersion.objects.get(pk=v.pk).state for v in versions]


def test_expiry_flips_only_due_approved_versions_and_records_each(alice, tenant_a, reviewers, time_machine):
    due, retired = (approved(alice, tenant_a, reviewers, expires_at=soon()) for _ in range(2))
    fresh = approved(alice, tenant_a, reviewers)
    move_past_expiry(time_machine, due)
    services.retire_version(actor=alice, version=retired, reason="withdrawn")
    assert services.expire_due_versions() == 1
    assert states(due, fresh, retired) == ["expired", "approved", "retired"]
    transition = Transition.objects.get(action="expire")
    assert (transition.version_id, transition.actor, transition.from_state) == (due.pk, None, "approved")
    latest = due.history.first()
    assert latest.state == "expired" and "expired" in latest.history_change_reason
    assert Notice.objects.filter(kind="expired", version=due, user=alice).exists()
    due.refresh_from_db()
    assert [d.code for d in selectors.use_denials(version=due, tenant=tenant_a, use="training")] == ["expired"]


def test_expiry_is_idempotent(alice, tenant_a, reviewers, time_machine):
    due = approved(alice, tenant_a, reviewers)
    move_past_expiry(time_machine, due)
    assert services.expire_due_versions() == 1
    counts = (Transition.objects.count(), due.history.count(), Notice.objects.count())
    assert services.expire_due_versions() == 0
    assert (Transition.objects.count(), due.history.count(), Notice.objects.count()) == counts


def test_expiry_records_the_scorecards_in_one_background_task_per_chunk(alice, tenant_a, reviewers, time_machine,
                                                                        django_capture_on_commit_callbacks):
    versions = [approved(alice, tenant_a, reviewers) for _ in range(4)]
    move_past_expiry(time_machine, *versions)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.expire_due_versions(chunk_size=2) == 4
    assert len(callbacks) == 2  # one task per chunk, however many versions it holds
    for version in versions:
        snapshot = ScorecardSnapshot.objects.filter(version=version, use="training").latest("created_at", "id")
        assert snapshot.checks["U.lifecycle_state"]["status"] == "fail" and "U" in snapshot.failing


def test_a_version_valid_through_today_is_not_expired(alice, tenant_a, reviewers):
    today = approved(alice, tenant_a, reviewers, expires_at=timezone.localdate())
    assert services.expire_due_versions() == 0 and states(today) == ["approved"]


def test_expiry_is_set_based_not_a_query_per_version(alice, tenant_a, reviewers, time_machine):
    versions = [approved(alice, tenant_a, reviewers) for _ in range(6)]
    move_past_expiry(time_machine, *versions)
    with CaptureQueriesContext(connection) as few:
        assert services.expire_due_versions(chunk_size=3) == 6
    # Per chunk: claim, load, transitions, history, notices; plus the final empty claim.
    writes = [q for q in few.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN"))]
    assert len(writes) <= 2 * 5 + 1, [q["sql"][:80] for q in writes]


def test_expiry_notices_go_out_once_per_version_and_date(alice, tenant_a, reviewers, settings,
                                                         django_capture_on_commit_callbacks):
    alice.email = "alice@example.org"
    alice.save()
    soon = approved(alice, tenant_a, reviewers, expires_at=timezone.localdate() + datetime.timedelta(days=5))
    approved(alice, tenant_a, reviewers, expires_at=timezone.localdate() + datetime.timedelta(days=60))
    mail.outbox.clear()
    settings.EXPIRY_NOTICE_DAYS = 14
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_expiring() == 1
        assert services.notify_expiring() == 0
    assert ExpiryNotice.objects.get().version_id == soon.pk
    assert Notice.objects.filter(kind="expiry_soon").count() == 1
    assert len(mail.outbox) == 1 and "expires in 5 days" in mail.outbox[0].subject
    assert services.notify_expiring(days=90) == 1, "a wider window reaches the later version, once"


def test_tasks_call_the_services(alice, tenant_a, reviewers, time_machine):
    due = approved(alice, tenant_a, reviewers)
    move_past_expiry(time_machine, due)
    assert tasks.expire_due_versions_task.delay().get() == 1
    assert tasks.notify_expiring_task.delay(30).get() == 0


def test_schedules_are_synced_idempotently_and_keep_staff_edits():
    from django_celery_beat.models import PeriodicTask

    from config.schedules import SCHEDULES, sync_schedules

    sync_schedules()
    PeriodicTask.objects.filter(name="governance: expire due versions").update(enabled=False)
    sync_schedules()
    rows = PeriodicTask.objects.filter(name__in=list(SCHEDULES))
    assert rows.count() == len(SCHEDULES)
    assert set(rows.values_list("task", flat=True)) >= {
        "governance.tasks.expire_due_versions_task", "governance.tasks.notify_expiring_task"}
    assert not rows.get(name="governance: expire due versions").enabled


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_expiry_waits_for_a_concurrent_suspension_and_skips_it(alice, tenant_a, reviewers, time_machine):
    import threading

    due = approved(alice, tenant_a, reviewers)
    move_past_expiry(time_machine, due)
    locked, release = threading.Event(), threading.Event()

    def suspend_slowly():
        from django.db import transaction

        with transaction.atomic():
            services.suspend(actor=alice, version=due, reason="audit")
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=suspend_slowly)
    thread.start()
    locked.wait(10)
    result = []
    job = threading.Thread(target=lambda: (result.append(services.expire_due_versions()), connection.close()))
    job.start()
    job.join(0.5)
    assert job.is_alive(), "the expiry UPDATE waits on the suspension's row lock"
    release.set()
    thread.join()
    job.join()
    assert result == [0] and states(due) == ["suspended"]
    assert list(Transition.objects.filter(version=due).values_list("action", flat=True)) == [
        "submit", "approve", "suspend"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_due_versions_once(celery_worker_process, alice, tenant_a, reviewers, time_machine):
    """The worker keeps the real clock: the versions are approved ten days ago
    (in-process clock moved back), with an expiry date that passed yesterday."""
    now = timezone.now()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    time_machine.move_to(now - datetime.timedelta(days=10))
    due, retired = (approved(alice, tenant_a, reviewers, expires_at=yesterday) for _ in range(2))
    fresh = approved(alice, tenant_a, reviewers)
    time_machine.move_to(now)
    services.retire_version(actor=alice, version=retired, reason="withdrawn")
    tasks.expire_due_versions_task.delay()
    assert wait_until(lambda: states(due) == ["expired"], timeout=60), celery_worker_process.log_path.read_text()
    assert states(fresh, retired) == ["approved", "retired"]
    before = (Transition.objects.count(), due.history.count(), Notice.objects.count())
    tasks.expire_due_versions_task.delay()
    tasks.notify_expiring_task.delay(365)
    assert wait_until(lambda: ExpiryNotice.objects.exists(), timeout=60), celery_worker_process.log_path.read_text()
    celery_worker_process.wait_for_log("notify_expiring_task", timeout=30)
    assert (Transition.objects.count(), due.history.count()) == before[:2], "the second run changed nothing"
    assert ExpiryNotice.objects.get().version_id == fresh.pk
