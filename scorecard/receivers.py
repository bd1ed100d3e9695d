"""Keep the scorecard history current when catalog evidence changes: after
the commit that changed it, record a snapshot of the version's watched uses
if the verdict moved. Evidence of other apps (gate runs, scans, monitor runs)
is recorded when the scorecard is next viewed (page, API, badge, CLI).

In-process and after commit, not a Celery task: a second writer racing the
request would meet "database is locked" on the embedded SQLite. ``robust``:
history is a side effect, so a failure to record it is logged and never
undoes or fails the evidence change that triggered it.

The set-based jobs (expiry) move a thousand versions in one statement; a
scorecard each, in-process, would cost the job ~28 ms per version. Their one
signal per chunk enqueues one task after commit instead, and the scorecards
catch up in the background (a view of one of them records it meanwhile)."""
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from registry.models import DatasetVersion
from registry.signals import version_state_changed, versions_state_changed

# Models whose save may change a scorecard; each has a ``version`` foreign key.
EVIDENCE_MODELS = ("registry.Manifest", "registry.VersionLineage", "governance.SignOff", "scorecard.Waiver")


def record_snapshots(version_id):
    """Record the scorecard of every use the version is watched for, if changed (idempotent)."""
    from . import services

    version = DatasetVersion.objects.select_related("manifest").filter(pk=version_id).first()
    if version is None or not hasattr(version, "manifest"):
        return
    for use in services.uses_to_watch(version):
        services.record_snapshot(version, use)


def _after_commit(version_id):
    transaction.on_commit(lambda: record_snapshots(version_id), robust=True)


def _evidence_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _after_commit(instance.version_id)


for _label in EVIDENCE_MODELS:
    post_save.connect(_evidence_saved, sender=_label, dispatch_uid=f"scorecard-evidence-{_label}")


@receiver(version_state_changed, dispatch_uid="scorecard-state-changed")
def _state_changed(sender, version, **kwargs):
    _after_commit(version.pk)


@receiver(versions_state_changed, dispatch_uid="scorecard-states-changed")
def _states_changed(sender, versions, **kwargs):
    from .tasks import record_snapshots_task

    version_ids = [version.pk for version in versions]
    transaction.on_commit(lambda: record_snapshots_task.delay(version_ids), robust=True)
