"""CAREFUL F (the cascade ran, the reject set is kept) and the measured half
of A (realism and fidelity against the real anchor).

Each check reads stored runs, step results and rejection counts in a
constant number of queries; nothing is recounted from the examples.
"""
from django.core.exceptions import ValidationError
from django.urls import reverse

from scorecard.checks import CheckResult, Status, careful_check, missing

from . import selectors, services
from .models import RunStatus

DEFAULT_MAX_AUC = 0.6


def _run_url(run):
    return reverse("gaterun-page", args=[run.pk])


def _gates(steps):
    return [step["gate"] for step in steps]


@careful_check("F", "F.cascade_ran", "The cell's gate cascade ran on this version")
def cascade_ran(version, use, params):
    run = selectors.latest_finished_run(version)
    if run is None:
        return missing("No gate run has finished on this version yet.")
    if run.status == RunStatus.FAILED:
        first_line = run.error.splitlines()[0] if run.error else "no error recorded"
        return CheckResult(Status.FAIL, f"The latest gate run #{run.pk} failed: {first_line}",
                           evidence_url=_run_url(run))
    cell_gates = _gates(services.default_steps(use))
    absent = [gate for gate in cell_gates if gate not in _gates(run.steps)]
    evidence = {"run": run.pk, "gates": _gates(run.steps)}
    if absent:
        return CheckResult(
            Status.FAIL, f"Run #{run.pk} left out gate(s) the {use} cell requires: {', '.join(absent)}",
            value=len(cell_gates) - len(absent), threshold=len(cell_gates), evidence_url=_run_url(run),
            evidence=evidence,
        )
    try:
        configured, _ = services.effective_steps(version)
    except ValidationError as error:
        configured = None
        evidence["cascade_error"] = error.messages
    if configured != run.steps:
        return CheckResult(
            Status.WARN, f"Run #{run.pk} passed every gate of the {use} cell, but the cascade has changed since; "
            "run it again for evidence of the current configuration.",
            value=len(cell_gates), threshold=len(cell_gates), evidence_url=_run_url(run), evidence=evidence,
        )
    return CheckResult(
        Status.PASS, f"Run #{run.pk}: {len(run.steps)} gate(s), {run.pool_count} candidates → {run.accepted_count} "
        "accepted", value=len(cell_gates), threshold=len(cell_gates), evidence_url=_run_url(run), evidence=evidence,
    )


@careful_check("F", "F.reject_set_retained", "The reject set is retained with reasons")
def reject_set_retained(version, use, params):
    run = selectors.latest_succeeded_run(version)
    if run is None:
        return missing("No succeeded gate run on this version: there is no reject set yet.")
    results = selectors.step_results(run)
    stored = selectors.rejection_counts(run)
    problems = [
        f"step {r.position} ({r.gate}) removed {r.rejected} but {stored.get(r.position, 0)} rejection(s) are stored"
        for r in results if r.rejected != stored.get(r.position, 0)
    ]
    if len(results) != len(run.steps):
        problems.append(f"{len(results)} of {len(run.steps)} step results are stored")
    elif results and (results[0].count_in != run.pool_count or results[-1].count_out != run.accepted_count):
        problems.append(f"the funnel ({results[0].count_in} → {results[-1].count_out}) does not match the run "
                        f"({run.pool_count} → {run.accepted_count})")
    total = sum(stored.values())
    if problems:
        return CheckResult(Status.FAIL, f"Run #{run.pk}: " + "; ".join(problems), value=total,
                           evidence_url=_run_url(run), evidence={"run": run.pk})
    return CheckResult(
        Status.PASS, f"Run #{run.pk}: {total} rejection(s) kept with gate, reason and details across "
        f"{len(results)} gate(s)", value=total, evidence_url=_run_url(run), evidence={"run": run.pk},
    )


@careful_check("A", "A.fidelity", "Fidelity and realism measured against the real anchor")
def fidelity(version, use, params):
    max_auc = params.get("max_auc", DEFAULT_MAX_AUC)
    run = selectors.latest_succeeded_run(version)
    if run is None:
        return missing("No succeeded gate run: realism and fidelity are not measured yet.", threshold=max_auc)
    realism = selectors.realism_metrics(run)
    report = selectors.fidelity_report(run)
    if realism is None or report is None:
        lacking = " and ".join(part for part, absent in (("a realism gate", realism is None),
                                                         ("a fidelity report", report is None)) if absent)
        return missing(f"Run #{run.pk} has no {lacking} (the manifest needs a real anchor).",
                       threshold=max_auc, evidence_url=_run_url(run))
    auc, low, high = realism.get("auc"), realism.get("null_low"), realism.get("null_high")
    if auc is None:
        return missing(f"Run #{run.pk} could not measure realism: {realism.get('note', 'too few rows')}.",
                       threshold=max_auc, evidence_url=_run_url(run))
    band = f"null band {low:.3f}–{high:.3f}" if low is not None and high is not None else "no null band"
    evidence = {"run": run.pk, "fidelity_report": report.pk, "auc": auc, "null_low": low, "null_high": high}
    if realism.get("verdict") == "suspicious_copy":
        return CheckResult(
            Status.FAIL, f"Realism AUC {auc:.3f} is well below the {band}: the classifier is systematically "
            "wrong, a sign of synthetic rows copying real ones", value=auc, threshold=max_auc,
            evidence_url=_run_url(run), evidence=evidence,
        )
    if auc > max_auc:
        return CheckResult(
            Status.FAIL, f"Realism AUC {auc:.3f} > {max_auc} ({band}): real and synthetic rows are told apart",
            value=auc, threshold=max_auc, evidence_url=_run_url(run), evidence=evidence,
        )
    return CheckResult(
        Status.PASS, f"Realism AUC {auc:.3f} ≤ {max_auc} ({band}); fidelity report #{report.pk} against "
        f"{report.anchor_version}", value=auc, threshold=max_auc, evidence_url=_run_url(run), evidence=evidence,
    )
