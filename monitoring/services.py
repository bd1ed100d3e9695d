"""Monitoring actions: baselines, monitors, production batches, runs and
alerts. Pages, API, admin, CLI and tasks call these, never the models."""
import datetime
import gzip
import json
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from registry import audit, permissions
from registry.errors import Conflict
from registry.models import DatasetVersion
from registry.services import save_with_history

# frames (pandas) is imported inside the functions that read or write data, so
# importing this module (URL conf, admin, API) loads no pandas.
from . import slices
from .models import (
    OPEN_ALERT_STATES, Alert, AlertStatus, Baseline, BaselineSource, BaselineVersion, ColumnType, DataSource, Monitor,
    MonitorKind, MonitorRun, Outcome, ProductionBatch, Resolution, RunStatus,
)

# A run "running" longer than this lost its worker; the sweep re-queues it.
STALE_AFTER = datetime.timedelta(minutes=30)
MAX_ATTEMPTS = 3
SCHEDULED_TASK = "monitoring.tasks.run_scheduled_monitor_task"


# -- Baselines ----------------------------------------------------------------

@transaction.atomic
def create_baseline(*, actor, tenant, name, description=""):
    permissions.require(actor, "add", Baseline, tenant=tenant)
    if Baseline.objects.filter(tenant=tenant, name=name).exists():
        raise ValidationError({"name": f"Tenant {tenant.slug} already has a baseline named {name!r}."})
    baseline = Baseline(tenant=tenant, name=name, description=description, created_by=actor)
    baseline.full_clean()
    save_with_history(baseline, actor, "created")
    return baseline


def _source_frame(actor, baseline, *, source_version, source_mix, upload):
    from . import frames

    given = [source for source in (source_version, source_mix, upload) if source is not None]
    if len(given) != 1:
        raise ValidationError({"source": "Give exactly one of a dataset version, a training mix or a file."})
    if source_version is not None:
        if not DatasetVersion.objects.visible_to(actor).filter(pk=source_version.pk).exists():
            raise ValidationError({"source_version": "No such version in your scope."})
        return BaselineSource.VERSION, frames.examples_frame(source_version.examples.all())
    if source_mix is not None:
        from registry.models import Example

        if source_mix.tenant_id != baseline.tenant_id:
            raise ValidationError({"source_mix": "No such training mix in this baseline's tenant."})
        return BaselineSource.TRAINING_MIX, frames.examples_frame(
            Example.objects.filter(pk__in=source_mix.examples.values("example_id"))
        )
    chunks, file_name = upload
    return BaselineSource.UPLOAD, frames.read_upload(chunks, file_name)


def _check_role_column(columns, field, name):
    if name and name not in {column["name"] for column in columns}:
        raise ValidationError({field: f"{name!r} is not in the column definition."})


def add_baseline_version(*, actor, baseline, columns=None, target_column="", prediction_column="",
                         source_version=None, source_mix=None, upload=None, notes=""):
    """Store a new immutable version of ``baseline`` from a dataset version, a
    training mix or an uploaded CSV / Parquet / JSONL file ((chunks, file_name)).
    The data is typed by ``columns`` (inferred when omitted), written once as
    Parquet, and its reference statistics computed."""
    from . import frames

    permissions.require(actor, "change", baseline, message=f"You may not add versions to baseline {baseline.name}.")
    source, frame = _source_frame(actor, baseline, source_version=source_version, source_mix=source_mix, upload=upload)
    if frame.empty:
        raise ValidationError({"source": "The data has no rows."})
    columns = frames.validate_columns(columns, set(map(str, frame.columns))) if columns else frames.infer_columns(frame)
    _check_role_column(columns, "target_column", target_column)
    _check_role_column(columns, "prediction_column", prediction_column)
    typed = frames.typed(frame, columns)
    stored, sha256 = frames.store_frame(typed, "baselines")
    try:
        with transaction.atomic():
            locked = Baseline.objects.select_for_update().get(pk=baseline.pk)
            latest = locked.versions.order_by("-number").values_list("number", flat=True).first() or 0
            version = BaselineVersion(
                baseline=locked, number=latest + 1, source=source, source_version=source_version,
                source_mix=source_mix, source_file_name=Path(upload[1]).name[:255] if upload else "",
                columns=columns, target_column=target_column, prediction_column=prediction_column,
                stored_path=stored, file_sha256=sha256, row_count=len(typed),
                stats=frames.column_stats(typed, columns), notes=notes, created_by=actor,
            )
            version.full_clean()
            version.save()
            return version
    except Exception:
        (Path(settings.MEDIA_ROOT) / stored).unlink(missing_ok=True)
        raise


# -- Monitors -----------------------------------------------------------------

MONITOR_FIELDS = (
    "name", "kind", "source", "baseline_version", "columns", "column_methods", "drift_share", "slices",
    "min_slice_rows", "coverage_clusters", "coverage_min_support", "coverage_max_uncovered", "window_hours",
    "sample_rows", "sample_seed", "column_chunk", "schedule", "owner", "severity", "enabled",
)


def _check_version_writer(actor, version):
    permissions.require(actor, "configure_monitors", version, message=f"You may not configure monitors of {version}.")


def _validate_schedule(schedule):
    parts = schedule.split()
    if schedule and len(parts) != 5:
        raise ValidationError({"schedule": 'Give five crontab fields: "minute hour day-of-month month day-of-week".'})
    if schedule:
        from celery.schedules import ParseException, crontab

        try:
            crontab(*parts)
        except (ParseException, ValueError) as error:
            raise ValidationError({"schedule": f"Not a crontab: {error}"}) from None


def _validate_monitor(monitor):
    baseline = monitor.baseline_version
    if baseline.baseline.tenant_id != monitor.version.dataset.tenant_id:
        raise ValidationError({"baseline_version": "No such baseline version in this dataset's tenant."})
    defined = {column["name"]: column["type"] for column in baseline.columns}
    if not isinstance(monitor.columns, list) or any(name not in defined for name in monitor.columns):
        unknown = [name for name in monitor.columns if name not in defined] if isinstance(monitor.columns, list) else []
        raise ValidationError({"columns": f"Not in the baseline's columns: {', '.join(map(str, unknown)) or 'list'}."})
    compared = monitor.columns or list(defined)
    if monitor.kind != MonitorKind.COVERAGE and not any(defined[name] != ColumnType.DATETIME for name in compared):
        raise ValidationError({"columns": "Compare at least one numeric, categorical or text column."})
    if not isinstance(monitor.column_methods, dict):
        raise ValidationError({"column_methods": 'Give {"column": {"method": ..., "threshold": ...}}.'})
    for name, spec in monitor.column_methods.items():
        if name not in compared or not isinstance(spec, dict) or set(spec) - {"method", "threshold"}:
            raise ValidationError({"column_methods": f"{name!r}: a compared column with method and/or threshold."})
        threshold = spec.get("threshold")
        if threshold is not None and (not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1e6):
            raise ValidationError({"column_methods": f"{name!r}: threshold must be a non-negative number."})
        if spec.get("method") is not None and not isinstance(spec["method"], str):
            raise ValidationError({"column_methods": f"{name!r}: method must be an Evidently method name."})
    monitor.slices = slices.validate(monitor.slices, set(defined))
    if monitor.kind == MonitorKind.SLICE and not monitor.slices:
        raise ValidationError({"slices": "A slice monitor needs at least one slice."})
    if monitor.kind == MonitorKind.COVERAGE and monitor.source != DataSource.PRODUCTION:
        raise ValidationError({"source": "A coverage monitor compares production batches with the training data."})
    _validate_schedule(monitor.schedule)
    if not DatasetVersion.objects.visible_to(monitor.owner).filter(pk=monitor.version_id).exists():
        raise ValidationError({"owner": "No such user in this dataset's scope."})
    monitor.full_clean(exclude=["periodic_task"])


def _sync_periodic_task(monitor):
    """One django-celery-beat PeriodicTask per scheduled monitor (visible and
    editable in the admin); removed when the schedule is cleared."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if not monitor.schedule:
        if monitor.periodic_task_id:
            PeriodicTask.objects.filter(pk=monitor.periodic_task_id).delete()
            Monitor.objects.filter(pk=monitor.pk).update(periodic_task=None)
            monitor.periodic_task = None
        return
    minute, hour, day_of_month, month_of_year, day_of_week = monitor.schedule.split()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week,
        timezone="UTC",
    )
    task, _ = PeriodicTask.objects.update_or_create(
        name=f"monitoring: monitor #{monitor.pk} {monitor.name}"[:200],
        defaults={"task": SCHEDULED_TASK, "crontab": crontab, "interval": None,
                  "kwargs": json.dumps({"monitor_id": monitor.pk}), "enabled": monitor.enabled,
                  "description": f"Run monitor {monitor} on its schedule."},
    )
    if monitor.periodic_task_id != task.pk:
        Monitor.objects.filter(pk=monitor.pk).update(periodic_task=task)
        monitor.periodic_task = task


@transaction.atomic
def create_monitor(*, actor, version, name, baseline_version, owner=None, **settings_):
    unknown = sorted(set(settings_) - set(MONITOR_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: "Unknown monitor field."})
    _check_version_writer(actor, version)
    if Monitor.objects.filter(version=version, name=name).exists():
        raise ValidationError({"name": f"{version} already has a monitor named {name!r}."})
    monitor = Monitor(version=version, name=name, baseline_version=baseline_version, owner=owner or actor, **settings_)
    _validate_monitor(monitor)
    save_with_history(monitor, actor, "created")
    _sync_periodic_task(monitor)
    return monitor


@transaction.atomic
def update_monitor(*, actor, monitor, **changes):
    unknown = sorted(set(changes) - set(MONITOR_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: "Unknown monitor field."})
    monitor = Monitor.objects.select_for_update().get(pk=monitor.pk)
    _check_version_writer(actor, monitor.version)
    for field, value in changes.items():
        setattr(monitor, field, value)
    _validate_monitor(monitor)
    save_with_history(monitor, actor, "updated")
    _sync_periodic_task(monitor)
    return monitor


# -- Production batches ---------------------------------------------------------

def _time_range(frame, columns, started_at, ended_at):
    if (started_at is None) != (ended_at is None):
        raise ValidationError({"ended_at" if started_at else "started_at": "Give both ends of the time range."})
    if started_at is not None:
        if ended_at < started_at:
            raise ValidationError({"ended_at": "The time range ends before it starts."})
        return started_at, ended_at
    stamps = [frame[c["name"]].dropna() for c in columns if c["type"] == ColumnType.DATETIME and c["name"] in frame]
    stamps = [series for series in stamps if len(series)]
    if stamps:
        return min(s.min() for s in stamps).to_pydatetime(), max(s.max() for s in stamps).to_pydatetime()
    now = timezone.now()
    return now, now


def post_production_batch(*, actor, monitor, frame=None, upload=None, started_at=None, ended_at=None):
    """Store a batch of production rows (a frame, e.g. from JSON, or an
    uploaded file) for ``monitor``, typed by its baseline's column definition.
    The time range is given, or read from the baseline's datetime column, or now."""
    from . import frames

    permissions.require(actor, "post_batch", monitor, message=f"You may not post production data to monitor {monitor.name}.")
    if monitor.source != DataSource.PRODUCTION:
        raise Conflict(f"Monitor {monitor.name} compares its version's examples, not production data.",
                       code="not_production_monitor")
    if (frame is None) == (upload is None):
        raise ValidationError({"file": "Give either rows or a file."})
    if upload is not None:
        frame = frames.read_upload(*upload)
    if frame.empty:
        raise ValidationError({"rows": "The batch has no rows."})
    definition = monitor.baseline_version.columns
    needed = set(_needed_columns(monitor))
    columns = [column for column in definition if column["name"] in needed or column["name"] in frame.columns]
    typed = frames.typed(frame, columns)
    started_at, ended_at = _time_range(typed, columns, started_at, ended_at)
    stored, sha256 = frames.store_frame(typed, "batches")
    try:
        batch = ProductionBatch(
            monitor=monitor, started_at=started_at, ended_at=ended_at, stored_path=stored, file_sha256=sha256,
            file_name=Path(upload[1]).name[:255] if upload else "rows.json", row_count=len(typed), created_by=actor,
        )
        batch.full_clean()
        batch.save()
        return batch
    except Exception:
        (Path(settings.MEDIA_ROOT) / stored).unlink(missing_ok=True)
        raise


# -- Runs -------------------------------------------------------------------------

def _enqueue(run_id):
    from . import tasks

    transaction.on_commit(lambda: tasks.run_monitor_task.delay(run_id))


@transaction.atomic
def request_run(*, actor, monitor, scheduled_for=None, trigger="manual"):
    """The run of ``monitor`` for ``scheduled_for`` (now by default), queued once:
    asking again for the same time returns the same run."""
    if actor is not None:  # None: the beat schedule
        permissions.require(actor, "run", monitor, message=f"You may not run monitor {monitor.name}.")
    scheduled_for = scheduled_for or timezone.now()
    try:
        with transaction.atomic():
            run = MonitorRun.objects.create(monitor=monitor, scheduled_for=scheduled_for, trigger=trigger)
    except IntegrityError:
        return MonitorRun.objects.get(monitor=monitor, scheduled_for=scheduled_for)
    _enqueue(run.pk)
    return run


def run_scheduled(*, monitor_id, now=None):
    """Beat's entry: the run for this schedule slot (the minute it fired in),
    executed now. A duplicate beat message finds the run already claimed or done."""
    monitor = Monitor.objects.filter(pk=monitor_id, enabled=True).first()
    if monitor is None:
        return None
    slot = (now or timezone.now()).replace(second=0, microsecond=0)
    with transaction.atomic():
        run, _ = MonitorRun.objects.get_or_create(monitor=monitor, scheduled_for=slot, defaults={"trigger": "schedule"})
    return execute_run(run_id=run.pk)


def _claim(run_id):
    """Compare-and-set: queued -> running (or take over a run whose worker died
    and whose message was redelivered). Returns the claim token or None."""
    token = uuid.uuid4().hex
    claimed = MonitorRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=RunStatus.RUNNING, claim_token=token, claimed_at=timezone.now(), attempts=F("attempts") + 1,
    )
    return token if claimed else None


def _needed_columns(monitor):
    defined = [column["name"] for column in monitor.baseline_version.columns]
    compared = monitor.columns or defined
    used = set(compared)
    for entry in monitor.slices:
        used |= slices.columns_of(slices.parse(entry["filter"]))
    return [name for name in defined if name in used]


def _current_frame(monitor, scheduled_for, columns):
    import pandas as pd

    from . import frames

    if monitor.source == DataSource.VERSION:
        return frames.typed(frames.examples_frame(monitor.version.examples.all()), columns)
    since = scheduled_for - datetime.timedelta(hours=monitor.window_hours)
    batches = list(monitor.batches.filter(ended_at__gt=since, ended_at__lte=scheduled_for).order_by("ended_at", "pk"))
    if not batches:
        raise ValidationError({"batches": f"No production batch ended in the {monitor.window_hours} h window."})
    names = [column["name"] for column in columns]
    return pd.concat([frames.read_frame(batch.stored_path, names) for batch in batches], ignore_index=True)


def _severity(entry):
    """Score against threshold as one number, >= 1 when drifted, whatever the
    method's direction (distances drift above the threshold, p-values below)."""
    score, threshold = entry["score"], entry["threshold"] or 0
    distance_like = entry["drifted"] == (score >= threshold)
    if distance_like:
        return round(score / threshold, 4) if threshold else 0.0
    return round(min(threshold / score, 10.0), 4) if score > 0 else 10.0


def _comparison_dict(comparison):
    for entry in comparison.columns.values():
        entry["severity"] = _severity(entry)
    return comparison.columns


def _compute(monitor, reference, current, columns):
    """The monitor's verdict: (outcome, fields to store, {part: (html, json)}, summary)."""
    from . import drift

    compared = [column for column in columns if column["name"] in (monitor.columns or [c["name"] for c in columns])]
    if monitor.kind == MonitorKind.COVERAGE:
        from .coverage import coverage

        result = coverage(reference, current, columns=compared, clusters=monitor.coverage_clusters,
                          min_support=monitor.coverage_min_support, seed=monitor.sample_seed)
        failed = result["uncovered_share"] > monitor.coverage_max_uncovered
        summary = (f"{result['uncovered_share']:.1%} of production lies in regions with little or no training "
                   f"support (limit {monitor.coverage_max_uncovered:.1%}).")
        return failed, {"coverage": result}, {}, summary
    options = {"column_methods": monitor.column_methods, "drift_share": monitor.drift_share,
               "chunk": monitor.column_chunk}
    aggregate = drift.compare(reference, current, columns=compared, **options)
    reports = {f"aggregate-{i + 1}" if len(aggregate.reports) > 1 else "aggregate": report
               for i, report in enumerate(aggregate.reports)}
    slice_metrics, failing_slices = {}, []
    for entry in monitor.slices:
        tree = slices.parse(entry["filter"])
        ref_part, cur_part = reference[slices.mask(tree, reference)], current[slices.mask(tree, current)]
        metrics = {"filter": entry["filter"], "rows_reference": len(ref_part), "rows_current": len(cur_part)}
        if min(len(ref_part), len(cur_part)) < monitor.min_slice_rows:
            metrics.update(judged=False, failed=False)
        else:
            result = drift.compare(ref_part.reset_index(drop=True), cur_part.reset_index(drop=True),
                                   columns=compared, **options)
            metrics.update(judged=True, failed=result.failed, drift_share=result.drift_share,
                           drifted=result.drifted, columns=_comparison_dict(result))
            reports.update({entry["name"] if len(result.reports) == 1 else f"{entry['name']}-{i + 1}": report
                            for i, report in enumerate(result.reports)})
            if result.failed:
                failing_slices.append(entry["name"])
        slice_metrics[entry["name"]] = metrics
    failed = aggregate.failed or bool(failing_slices)
    parts = []
    if aggregate.failed:
        parts.append(f"drift share {aggregate.drift_share:.0%} ≥ {monitor.drift_share:.0%} "
                     f"(drifted: {', '.join(aggregate.drifted)})")
    if failing_slices:
        parts.append(f"slice(s) drifted: {', '.join(failing_slices)}")
    fields = {"drift_share": aggregate.drift_share, "drifted_columns": aggregate.drifted,
              "column_metrics": _comparison_dict(aggregate), "slice_metrics": slice_metrics}
    return failed, fields, reports, "; ".join(parts)


def _write_reports(reports):
    """Each part's HTML (gzipped) and JSON under MEDIA_ROOT/monitoring/reports."""
    folder = Path("monitoring") / "reports"
    (Path(settings.MEDIA_ROOT) / folder).mkdir(parents=True, exist_ok=True)
    stored = {}
    for part, (html, content) in reports.items():
        stem = uuid.uuid4().hex
        html_path, json_path = folder / f"{stem}.html.gz", folder / f"{stem}.json"
        with gzip.open(Path(settings.MEDIA_ROOT) / html_path, "wb", compresslevel=5) as out:
            out.write(html.encode("utf-8"))
        (Path(settings.MEDIA_ROOT) / json_path).write_text(content, encoding="utf-8")
        stored[part] = {"html": str(html_path), "json": str(json_path)}
    return stored


def _delete_reports(stored):
    for paths in stored.values():
        for relative in paths.values():
            (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)


def execute_run(*, run_id):
    """Claim the run, load the stored baseline and current data, compare, and
    write every result (metrics, reports, alert, review flag) in one
    transaction at the end, only if this claim still holds the run. A crash
    before that leaves the run "running" with no results; a redelivered task
    or the stale-run sweep takes it over."""
    from . import frames

    token = _claim(run_id)
    run = MonitorRun.objects.select_related("monitor__baseline_version", "monitor__version__dataset").get(pk=run_id)
    if token is None:
        return run
    monitor = run.monitor
    timings, started = {}, time.perf_counter()
    stored = {}
    try:
        names = _needed_columns(monitor)
        columns = [column for column in monitor.baseline_version.columns if column["name"] in names]
        reference = frames.read_frame(monitor.baseline_version.stored_path, names)
        current = _current_frame(monitor, run.scheduled_for, columns)
        reference, sampled_ref = frames.sample(reference, monitor.sample_rows, monitor.sample_seed)
        current, sampled_cur = frames.sample(current, monitor.sample_rows, monitor.sample_seed + 1)
        timings["load"] = round(time.perf_counter() - started, 4)
        failed, fields, reports, summary = _compute(monitor, reference, current, columns)
        timings["compare"] = round(time.perf_counter() - started - timings["load"], 4)
        stored = _write_reports(reports)
        fields.update(rows_reference=len(reference), rows_current=len(current), sampled=sampled_ref or sampled_cur,
                      reports=stored)
    except (ValidationError, ValueError) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        _finish(run, token, status=RunStatus.ERROR, fields={"error": message[:2000]}, timings=timings, started=started)
        return MonitorRun.objects.get(pk=run_id)
    except Exception as error:
        _delete_reports(stored)
        _finish(run, token, status=RunStatus.ERROR, fields={"error": f"internal error: {type(error).__name__}"},
                timings=timings, started=started)
        raise
    finished = _finish(run, token, status=RunStatus.DONE, outcome=Outcome.FAIL if failed else Outcome.PASS,
                       fields=fields, timings=timings, started=started, summary=summary)
    if not finished:
        _delete_reports(stored)
    return MonitorRun.objects.get(pk=run_id)


def _finish(run, token, *, status, fields, timings, started, outcome="", summary=""):
    """Store the results if the claim still holds (one transaction); False if
    another claim took the run over meanwhile."""
    with transaction.atomic():
        locked = MonitorRun.objects.select_for_update().filter(
            pk=run.pk, status=RunStatus.RUNNING, claim_token=token
        ).first()
        if locked is None:
            return False
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.status, locked.outcome, locked.finished_at = status, outcome, timezone.now()
        if outcome == Outcome.FAIL:
            locked.alert = _open_or_attach_alert(run.monitor, summary)
        timings["total"] = round(time.perf_counter() - started, 4)
        locked.timings = timings
        locked.save()
    return True


def reclaim_stale_runs(*, older_than=STALE_AFTER):
    """Runs left "running" by a worker that died: re-queue them (compare-and-set
    on the claim), or mark them errored after MAX_ATTEMPTS. Returns the ids re-queued."""
    cutoff = timezone.now() - older_than
    requeued = []
    for run in MonitorRun.objects.filter(status=RunStatus.RUNNING, claimed_at__lte=cutoff):
        with transaction.atomic():
            stale = MonitorRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, claim_token=run.claim_token)
            if run.attempts >= MAX_ATTEMPTS:
                stale.update(status=RunStatus.ERROR, finished_at=timezone.now(),
                             error=f"Worker lost {run.attempts} times; giving up.")
            elif stale.update(status=RunStatus.QUEUED, claim_token=""):
                requeued.append(run.pk)
                _enqueue(run.pk)
    return requeued


# -- Alerts -----------------------------------------------------------------------------

def _set_needs_review(version_id, value, actor, reason):
    """Flag (or clear) the version for review, with a history row for ``actor``."""
    version = DatasetVersion.objects.select_for_update().get(pk=version_id)
    if version.needs_review != value:
        version.needs_review = value
        save_with_history(version, actor, reason)


def _notify_owner(alert, message):
    """In-app notice (governance) and e-mail, after commit."""
    subject = f"[Careful Registry] monitor {alert.monitor.name} failed on {alert.version}"
    try:
        from governance.models import NoticeKind
        from governance.services import notify
    except ImportError:
        recipients = [alert.monitor.owner.email] if alert.monitor.owner.email else []
        if recipients:
            transaction.on_commit(lambda: send_mail(subject, message, None, recipients, fail_silently=True))
        return
    notify(users=[alert.monitor.owner], kind=NoticeKind.ALERT, message=message, version=alert.version,
           email_subject=subject)


def _open_or_attach_alert(monitor, summary):
    """The monitor's open alert (a repeat failure attaches to it), or a new one:
    notify the owner and flag the version for review. Runs inside the run's
    final transaction."""
    alert = Alert.objects.select_for_update().filter(monitor=monitor, status__in=OPEN_ALERT_STATES).first()
    if alert is not None:
        Alert.objects.filter(pk=alert.pk).update(failing_runs=F("failing_runs") + 1)
        return alert
    alert = Alert(monitor=monitor, version=monitor.version, severity=monitor.severity, summary=summary)
    try:
        with transaction.atomic():
            save_with_history(alert, monitor.owner, "opened")
    except IntegrityError:
        # A concurrent run of the same monitor opened it first (partial UNIQUE): attach.
        return _open_or_attach_alert(monitor, summary)
    _set_needs_review(monitor.version_id, True, monitor.owner, f"needs review: monitor {monitor.name} alert #{alert.pk}")
    _notify_owner(alert, f"Monitor {monitor.name} failed on {monitor.version}: {summary}")
    return alert


def _locked_alert(actor, alert, action):
    alert = Alert.objects.select_for_update().select_related("version__dataset__tenant", "monitor").get(pk=alert.pk)
    permissions.require(actor, action, alert, message=(
        "Only governance reviewers acknowledge alerts." if action == "acknowledge"
        else f"You may not {action} this alert."))
    if not alert.is_open:
        raise Conflict(f"Alert #{alert.pk} is resolved.", code="alert_resolved")
    return alert


@transaction.atomic
def acknowledge_alert(*, actor, alert, note=""):
    """A governance reviewer has seen the alert. It records that, nothing more: the
    L letter stays failing until a run passes or a waiver is recorded."""
    alert = _locked_alert(actor, alert, "acknowledge")
    if alert.status == AlertStatus.ACKNOWLEDGED:
        raise Conflict(f"Alert #{alert.pk} is already acknowledged.", code="alert_acknowledged")
    alert.status, alert.acknowledged_by, alert.acknowledged_at = AlertStatus.ACKNOWLEDGED, actor, timezone.now()
    note = note.strip()
    save_with_history(alert, actor, f"acknowledged{': ' + note if note else ''}")
    audit.record(actor=actor, action="alert.acknowledged", obj=alert, tenant=alert.version.dataset.tenant,
                 detail=f"{alert.monitor.name}: {alert.summary}" + (f" ({note})" if note else ""))
    return alert


@transaction.atomic
def assign_alert(*, actor, alert, assignee):
    alert = _locked_alert(actor, alert, "assign")
    if not DatasetVersion.objects.visible_to(assignee).filter(pk=alert.version_id).exists():
        raise ValidationError({"assignee": "No such user in this dataset's scope."})
    alert.assignee = assignee
    save_with_history(alert, actor, f"assigned to {assignee.get_username()}")
    audit.record(actor=actor, action="alert.assigned", obj=alert, tenant=alert.version.dataset.tenant,
                 detail=f"to {assignee.get_username()}")
    return alert


@transaction.atomic
def resolve_alert(*, actor, alert, resolution, note=""):
    """Close the alert with a reason. "regenerate" opens a draft version of the
    dataset for the regeneration; "retire" retires the version through
    governance. The review flag clears when no open alert remains on it."""
    alert = _locked_alert(actor, alert, "resolve")
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": f"Choose one of {', '.join(Resolution.values)}."})
    note = (note or "").strip()
    if resolution in (Resolution.OTHER, Resolution.RETIRE) and not note:
        raise ValidationError({"note": "Say why."})
    if resolution == Resolution.REGENERATE:
        from registry.services import create_version

        alert.regenerated_version = create_version(
            actor=actor, dataset=alert.version.dataset,
            notes=f"Regeneration after monitoring alert #{alert.pk} on {alert.version}: {note or alert.summary}",
        )
    elif resolution == Resolution.RETIRE:
        from governance.services import retire_version

        retire_version(actor=actor, version=alert.version, reason=f"Monitoring alert #{alert.pk}: {note}")
    alert.status, alert.resolution, alert.resolution_note = AlertStatus.RESOLVED, resolution, note
    alert.resolved_by, alert.resolved_at = actor, timezone.now()
    save_with_history(alert, actor, f"resolved: {resolution}")
    audit.record(actor=actor, action="alert.resolved", obj=alert, tenant=alert.version.dataset.tenant,
                 detail=resolution + (f": {note}" if note else ""))
    if not Alert.objects.filter(version_id=alert.version_id, status__in=OPEN_ALERT_STATES).exists():
        _set_needs_review(alert.version_id, False, actor, f"review flag cleared: alert #{alert.pk} resolved")
    return alert
