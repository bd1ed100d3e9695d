"""Gate actions: configure a dataset's cascade, start a run on a version,
execute it (the Celery task body).

Every entry point (API, pages, admin, CLI, task, demo) calls these. Bad
configuration is refused before a run exists; a run writes each step's
result and rejections in one transaction, so a gate that crashes leaves the
earlier steps' decisions and none of its own.

Which versions can be gated: drafts and versions in review. An approved
version was approved with its accepted pool and reject set; gating it again
would change that evidence after the sign-offs, so it answers 409 (open a new
version instead). Finished runs are never rewritten, whatever the state.
"""
import datetime
import importlib.metadata
import functools
import platform
import secrets
import traceback
from pathlib import Path

import numpy
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from registry import audit, permissions
from registry.choices import Modality, VersionState
from registry.errors import Conflict
from registry.lineage import canonical_data
from registry.models import DatasetVersion, Example
from registry.services import save_with_history

from . import cascade as runner
from .base import GATES, Rows
from .models import (
    ACTIVE_STATUSES, FidelityReport, GateCascade, GateRun, GateStep, GateStepResult, Rejection, RunStatus,
)

GATEABLE_STATES = (VersionState.DRAFT, VersionState.IN_REVIEW)
MAX_STEPS = 20
ERROR_CHARS = 4000
# A running run with no stored step for this long lost its worker (see reclaim_stale_runs).
STALE_AFTER = datetime.timedelta(minutes=30)
MAX_ATTEMPTS = 3


# -- Cascade configuration ---------------------------------------------------------

def validate_steps(steps):
    """The steps as run: ``[{"gate", "params"}]`` with every parameter filled in
    from the gate's defaults. Raises ValidationError on ``steps`` with one
    message per problem, each naming the step, its gate and the parameter."""
    if not isinstance(steps, list) or not steps:
        raise ValidationError({"steps": "A cascade needs at least one gate."})
    if len(steps) > MAX_STEPS:
        raise ValidationError({"steps": f"At most {MAX_STEPS} gates, got {len(steps)}."})
    errors, normalized = [], []
    for position, step in enumerate(steps, 1):
        name = step.get("gate") if isinstance(step, dict) else None
        spec = GATES.get(name) if isinstance(name, str) else None
        if spec is None:
            errors.append(f"step {position}: unknown gate {name!r}; known gates: {', '.join(sorted(GATES))}.")
            continue
        params = step.get("params") or {}
        if not isinstance(params, dict):
            errors.append(f"step {position} ({name}): params must be an object.")
            continue
        errors += [f"step {position} ({name}): {message.removeprefix(f'{name}: ')}"
                   for message in spec.validate(params)]
        normalized.append({"gate": name, "params": {**spec.defaults(), **params}})
    if errors:
        raise ValidationError({"steps": errors})
    return normalized


def default_steps(use_cell):
    """The cell's default cascade, every parameter filled in."""
    return validate_steps(runner.default_steps(use_cell))


def effective_steps(version):
    """(steps, cascade): the dataset's configured cascade, or the default of
    the version's use cell (cascade None), validated against today's gates."""
    cascade = GateCascade.objects.filter(dataset_id=version.dataset_id).first()
    if cascade is not None and cascade.steps.exists():
        return validate_steps(cascade.step_config()), cascade
    return default_steps(version.manifest.use_cell), None


def _check_can_configure(actor, dataset):
    permissions.require(actor, "configure_gates", dataset, message=f"You may not change the gates of {dataset}.")


@transaction.atomic
def configure_cascade(*, actor, dataset, steps):
    """Replace the dataset's cascade by ``steps`` ([{"gate", "params"}] in
    order). Each step row is saved on its own, so the history shows who
    changed which gate's position or parameters and when."""
    _check_can_configure(actor, dataset)
    validate_steps(steps)
    requested = [{"gate": step["gate"], "params": step.get("params") or {}} for step in steps]
    cascade = GateCascade.objects.select_for_update().filter(dataset=dataset).first()
    if cascade is None:
        cascade = GateCascade(dataset=dataset, updated_by=actor)
    else:
        current = cascade.step_config()
        if current == requested:
            return cascade
        # The admin creates the row before its steps: its first steps are revision 1.
        cascade.revision += 1 if current else 0
        cascade.updated_by = actor
    save_with_history(cascade, actor, f"revision {cascade.revision}")
    reason = f"cascade revision {cascade.revision}"
    for step in cascade.steps.all():
        step._history_user, step._change_reason = actor, reason
        step.delete()
    for position, step in enumerate(requested, 1):
        save_with_history(GateStep(cascade=cascade, position=position, **step), actor, reason)
    return cascade


# -- Starting a run ----------------------------------------------------------------

def anchor_version_of(dataset):
    """The anchor's latest approved version, else its latest version (None without any)."""
    versions = DatasetVersion.objects.filter(dataset=dataset).order_by("-number")
    return versions.filter(state=VersionState.APPROVED).first() or versions.first()


def _anchor_for(version, steps):
    """The anchor version the run reads; refuses a cascade needing an anchor
    the manifest does not name (or whose versions hold no rows)."""
    anchor = version.manifest.real_anchor
    anchor_version = anchor_version_of(anchor) if anchor else None
    needing = [f"step {i} ({s['gate']})" for i, s in enumerate(steps, 1) if GATES[s["gate"]].needs_anchor]
    if not needing:
        return anchor_version
    if anchor is None:
        raise ValidationError({"real_anchor": (
            f"{', '.join(needing)} compare against the real anchor, and the manifest of {version} names none: "
            "set the manifest's real_anchor or remove these gates from the cascade."
        )})
    if anchor_version is None or not anchor_version.examples.exists():
        raise ValidationError({"real_anchor": (
            f"{', '.join(needing)} compare against the real anchor {anchor}, which has no examples yet."
        )})
    return anchor_version


def _may_gate(actor, version):
    """Writers of the tenant and its governance staff run gates."""
    return permissions.can(actor, "run_gates", version)


def can_gate(actor, version):
    """Whether ``actor`` may start a run on ``version`` now (what pages offer)."""
    return (version.state in GATEABLE_STATES and _may_gate(actor, version)
            and not GateRun.objects.filter(version=version, status__in=ACTIVE_STATUSES).exists())


@functools.cache
def software_versions():
    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scikit-learn": importlib.metadata.version("scikit-learn"),
        "registry": _registry_version(),
    }


def _registry_version():
    """The API version and, when the code is a git checkout, its commit."""
    version = settings.SPECTACULAR_SETTINGS["VERSION"]
    git = Path(settings.BASE_DIR) / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        commit = (git / head[5:]).read_text().strip() if head.startswith("ref: ") else head
    except OSError:
        return version
    return f"{version}+{commit[:12]}"


def start_gate_run(*, actor, version, seed=0, enqueue=True):
    """Validate everything a run needs, record it queued, and enqueue its task
    when the transaction commits (``enqueue=False``: the caller executes it)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValidationError({"seed": "The seed must be an integer from 0 to 2**63 - 1."})
    with transaction.atomic():
        if not _may_gate(actor, version):
            raise PermissionDenied(f"You may not run the gates of {version}.")
        DatasetVersion.objects.select_for_update().filter(pk=version.pk).first()
        version = DatasetVersion.objects.select_related("dataset", "manifest__real_anchor").get(pk=version.pk)
        if version.state not in GATEABLE_STATES:
            raise Conflict(
                f"{version} is {version.get_state_display().lower()}: its gate evidence is what was approved. "
                "Open a new version to gate it again.", code="not_gateable",
            )
        active = GateRun.objects.filter(version=version, status__in=ACTIVE_STATUSES).first()
        if active is not None:
            raise Conflict(f"Gate run #{active.pk} on {version} is still {active.status}.", code="run_active")
        steps, cascade = effective_steps(version)
        anchor_version = _anchor_for(version, steps)
        if not version.examples.exists():
            raise ValidationError({"version": f"{version} has no examples to gate."})
        run = GateRun.objects.create(
            version=version, steps=steps, cascade_revision=cascade.revision if cascade else None, seed=seed,
            software=software_versions(), anchor_version=anchor_version, created_by=actor,
        )
        audit.record(actor=actor, action="gates.run_started", obj=run, tenant=version.dataset.tenant,
                     detail=f"{len(steps)} step(s) on {version}, seed {seed}")
        if enqueue:
            from .tasks import gate_run_task

            transaction.on_commit(lambda: gate_run_task.delay(run.pk))
    return run


# -- Executing a run ----------------------------------------------------------------

class ClaimLost(Exception):
    """Another delivery of the task took the run over; this one stops writing."""


def _claim(run_id):
    """Compare-and-set: queued -> running, or take over a running run whose
    message was redelivered (its worker died). A finished run is never claimed."""
    token = secrets.token_hex(16)
    now = timezone.now()
    claimed = GateRun.objects.filter(pk=run_id, status__in=ACTIVE_STATUSES).update(
        status=RunStatus.RUNNING, claim_token=token, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now,
    )
    return token if claimed else None


def _locked(run_id, token):
    """The run row, locked, if this claim still holds it (inside a transaction)."""
    run = GateRun.objects.select_for_update().filter(pk=run_id, status=RunStatus.RUNNING, claim_token=token).first()
    if run is None:
        raise ClaimLost(run_id)
    return run


def load_rows(version):
    """A version's examples as gate rows, in ordinal order: the text, or for
    tabular rows the canonical JSON of their columns."""
    tabular = version.dataset.modality == Modality.TABULAR
    rows = Rows(ids=[], texts=[], labels=[], hashes=[], data=[])
    values = Example.objects.filter(version=version).order_by("ordinal").values_list(
        "id", "text", "data", "label", "content_hash"
    )
    for pk, text, data, label, content_hash in values.iterator(chunk_size=5000):
        rows.ids.append(pk)
        rows.texts.append(canonical_data(data) if tabular else text)
        rows.labels.append(label)
        rows.hashes.append(content_hash)
        if tabular:
            rows.data.append(data)
    return rows


def _summary(error):
    """The exception and the innermost frames, short enough to show on a page."""
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    lines = [f"{type(error).__name__}: {error}"] + [
        f"  at {Path(frame.filename).name}:{frame.lineno} in {frame.name}" for frame in frames
    ]
    return "\n".join(lines)[:ERROR_CHARS]


def _fail(run_id, token, error, position=None):
    with transaction.atomic():
        try:
            run = _locked(run_id, token)
        except ClaimLost:
            return
        run.status, run.error, run.failed_position, run.finished_at = RunStatus.FAILED, error, position, timezone.now()
        run.save(update_fields=["status", "error", "failed_position", "finished_at"])
        _audit_outcome(run, "gates.run_failed", error.splitlines()[0] if error else "")


def _audit_outcome(run, action, detail):
    """The run's end, in the audit trail as its starter's action (jobs act for them)."""
    version = DatasetVersion.objects.select_related("dataset__tenant").get(pk=run.version_id)
    audit.record(actor=run.created_by, action=action, obj=run, tenant=version.dataset.tenant, detail=detail)


class _Execution:
    """One claimed execution: writes each step as the cascade reports it."""

    def __init__(self, run, token, pool, listener):
        self.run, self.token, self.pool, self.listener = run, token, pool, listener
        self.units = len(run.steps) + (1 if run.anchor_version_id else 0)
        # Steps an earlier, lost delivery already stored: same data and seed give
        # the same decisions, so they are skipped rather than written twice.
        self.stored = set(GateStepResult.objects.filter(run=run).values_list("position", flat=True))
        self.rejected_ids = set(
            Rejection.objects.filter(run=run).values_list("example_id", flat=True)
        ) if self.stored else set()
        self.position = 0  # steps done

    def progress(self, done):
        return min(99, 100 * done // self.units)

    def on_step(self, outcome):
        position = self.position + 1
        rejected = [(self.pool.ids[reject.index], reject) for reject in outcome.rejects]
        if position not in self.stored:
            with transaction.atomic():
                run = _locked(self.run.pk, self.token)
                GateStepResult.objects.create(
                    run=run, position=position, gate=outcome.gate, params=outcome.params,
                    count_in=outcome.count_in, count_out=outcome.count_out, seconds=round(outcome.seconds, 4),
                    metrics=outcome.metrics,
                )
                Rejection.objects.bulk_create(
                    [Rejection(run=run, example_id=example_id, gate=outcome.gate, position=position,
                               reason=reject.reason, details=reject.details)
                     for example_id, reject in rejected],
                    batch_size=5000,
                )
                run.progress, run.heartbeat_at = self.progress(position), timezone.now()
                run.save(update_fields=["progress", "heartbeat_at"])
            self.rejected_ids.update(example_id for example_id, _ in rejected)
        self.position = position
        if self.listener:
            self.listener(position, len(self.run.steps), outcome.gate)


def execute_gate_run(*, run_id, listener=None):
    """Run a queued gate run (the task body). A finished run is returned
    untouched. ``listener(done, total, gate)`` hears each finished step."""
    token = _claim(run_id)
    run = GateRun.objects.select_related("version__dataset", "version__manifest", "anchor_version").get(pk=run_id)
    if token is None:
        return run
    if run.version.state not in GATEABLE_STATES:
        _fail(run.pk, token, f"{run.version} became {run.version.get_state_display().lower()} before the run "
                             "started; the gate evidence of a governed version is not changed.")
        return GateRun.objects.get(pk=run_id)
    execution = None
    try:
        pool = load_rows(run.version)
        anchor = load_rows(run.anchor_version) if run.anchor_version_id else None
        GateRun.objects.filter(pk=run.pk, claim_token=token).update(pool_count=len(pool))
        execution = _Execution(run, token, pool, listener)
        runner.run_cascade(
            pool, anchor, [(s["gate"], s["params"]) for s in run.steps], seed=run.seed,
            modality=run.version.dataset.modality, allowed_labels=_allowed_labels(anchor),
            on_step=execution.on_step,
        )
    except ClaimLost:
        return GateRun.objects.get(pk=run_id)
    except runner.CascadeError as error:
        _fail(run.pk, token, "The cascade was refused: " + "; ".join(error.messages))
        return GateRun.objects.get(pk=run_id)
    except Exception as error:
        _fail(run.pk, token, _summary(error), position=execution.position + 1 if execution else None)
        return GateRun.objects.get(pk=run_id)
    return _finish(run, token, pool, anchor, execution.rejected_ids)


def _allowed_labels(anchor):
    """Labels the format gate accepts: those the real anchor uses (no anchor: any)."""
    return sorted({label for label in anchor.labels if label}) if anchor else []


def _finish(run, token, pool, anchor, rejected_ids):
    """The fidelity report of the accepted pool, then the run succeeded: one transaction."""
    accepted = [i for i, pk in enumerate(pool.ids) if pk not in rejected_ids]
    results = None
    try:
        if anchor is not None:
            from .fidelity import evaluate  # scikit-learn and scipy: only when a run ends

            results = evaluate(pool.subset(accepted), anchor, run.version.dataset.modality, seed=run.seed)
        with transaction.atomic():
            locked = _locked(run.pk, token)
            if results is not None:
                FidelityReport.objects.create(
                    version=run.version, run=locked, anchor_version=run.anchor_version, results=results
                )
            locked.status, locked.progress, locked.finished_at = RunStatus.SUCCEEDED, 100, timezone.now()
            locked.accepted_count = len(accepted)
            locked.save(update_fields=["status", "progress", "finished_at", "accepted_count"])
            _audit_outcome(locked, "gates.run_succeeded", f"{locked.pool_count} candidates -> {len(accepted)} accepted")
    except ClaimLost:
        pass
    except Exception as error:
        _fail(run.pk, token, "fidelity report: " + _summary(error))
    return GateRun.objects.get(pk=run.pk)


def reclaim_stale_runs(*, older_than=STALE_AFTER):
    """Runs left running by a worker that died and whose message never came
    back: re-queue them (compare-and-set on the claim, so a live worker's next
    step write finds its claim gone and stops), or fail them after
    MAX_ATTEMPTS. The new delivery keeps the steps already stored. Returns the
    ids re-queued."""
    from .tasks import gate_run_task

    requeued = []
    stale_runs = GateRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lte=timezone.now() - older_than)
    for run in stale_runs:
        with transaction.atomic():
            stale = GateRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, claim_token=run.claim_token)
            if run.attempts >= MAX_ATTEMPTS:
                stale.update(status=RunStatus.FAILED, finished_at=timezone.now(),
                             error=f"Worker lost {run.attempts} times; giving up.")
            elif stale.update(status=RunStatus.QUEUED, claim_token=""):
                requeued.append(run.pk)
                transaction.on_commit(lambda pk=run.pk: gate_run_task.delay(pk))
    return requeued
