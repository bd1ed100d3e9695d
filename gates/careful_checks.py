"""CAREFUL F (the cascade ran, the reject set is kept) and the measured half
of A (realism and fidelity against the real anchor).

Each check reads stored runs, step results and rejection counts in a
constant number of queries; nothing is recounted from the examples.
"""
from django.core.exceptions import ValidationError
from django.urls import reverse

from registry.choices import Harm, Use
from scorecard.checks import CheckResult, Status, careful_check, missing
from scorecard.policy_defaults import fidelity_params

from . import selectors, services
from .models import RunStatus

# A.fidelity's thresholds when a policy does not set them: the medium-harm training cell's
# (the realism AUC, each column's shape score, the pair trends as a share of the real-vs-real
# baseline, the near copies beyond the real rows' own share).
FIDELITY_DEFAULTS = fidelity_params(Use.TRAINING, Harm.MEDIUM)


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


def _figure(value):
    return "—" if value is None else f"{value:.3f}"


def _pair_text(pair):
    a, b = pair["columns"]
    if "real_correlation" in pair:
        return (f"{a} × {b} (ρ real {_figure(pair['real_correlation'])}, "
                f"synthetic {_figure(pair.get('synthetic_correlation'))})")
    return (f"{a} × {b} (Cramér's V real {_figure(pair.get('real_association'))}, "
            f"synthetic {_figure(pair.get('synthetic_association'))})")


def fidelity_thresholds(params):
    """The A.fidelity thresholds: the policy's, else the defaults (a policy stored
    before a threshold existed lacks it)."""
    return {**FIDELITY_DEFAULTS, **{k: v for k, v in params.items() if k in FIDELITY_DEFAULTS}}


def assess_fidelity(run, realism, report, params):
    """A.fidelity for one succeeded run: the realism gate's AUC and verdict, the copy
    evidence of the fidelity report, and for tables each column's shape and the pair
    trends against the anchor's real-vs-real baseline. Every failing part is named in
    the verdict; the evidence holds the failing columns and the worst pairs (real vs
    synthetic correlation) whether it passes or not."""
    p = fidelity_thresholds(params)
    max_auc = p["max_auc"]
    if realism is None or report is None:
        lacking = " and ".join(part for part, absent in (("a realism gate", realism is None),
                                                         ("a fidelity report", report is None)) if absent)
        return missing(f"Run #{run.pk} has no {lacking} (the manifest needs a real anchor).",
                       threshold=max_auc, evidence_url=_run_url(run))
    auc, low, high = realism.get("auc"), realism.get("null_low"), realism.get("null_high")
    if auc is None:
        return missing(f"Run #{run.pk} could not measure realism: {realism.get('note', 'too few rows')}.",
                       threshold=max_auc, evidence_url=_run_url(run))
    results = report.results
    summary, privacy = results.get("summary", {}), results.get("privacy", {})
    band = f"null band {low:.3f}–{high:.3f}" if low is not None and high is not None else "no null band"
    classifier = realism.get("classifier", "linear")
    evidence = {"run": run.pk, "fidelity_report": report.pk, "auc": auc, "null_low": low, "null_high": high,
                "classifier": classifier, "second_opinion": realism.get("second_opinion"),
                "thresholds": p, "copy_excess": privacy.get("copy_excess"),
                "exact_copy_share": privacy.get("exact_copy_share"),
                "failing_columns": [], "worst_pairs": results.get("worst_pairs", [])}
    problems, ratio = [], summary.get("pair_trends_ratio")
    if realism.get("verdict") == "suspicious_copy":
        problems.append(f"realism AUC {auc:.3f} is below the {band} and the copy evidence agrees: synthetic rows "
                        "copying real ones")
    if auc > max_auc:
        problems.append(f"realism AUC {auc:.3f} > {max_auc} ({classifier}, {band}): real and synthetic rows are "
                        "told apart")
    excess = privacy.get("copy_excess")
    if privacy.get("exact_copy_share") or (excess is not None and excess > p["max_copy_share"]):
        problems.append(f"{privacy.get('exact_copy_share') or 0:.1%} exact copies and {excess or 0:.1%} near copies "
                        f"of real rows beyond the real rows' own (at most {p['max_copy_share']:.1%})")
    if results.get("modality") == "tabular":
        failing = sorted((c for c in results.get("columns", []) if c["score"] is not None
                          and c["score"] < p["min_column_shape"]), key=lambda c: (c["score"], c["column"]))
        evidence["failing_columns"] = [{"column": c["column"], "metric": c["metric"], "score": c["score"]}
                                       for c in failing]
        if failing:
            problems.append(f"column shape below {p['min_column_shape']}: "
                            + ", ".join(f"{c['column']} ({c['score']:.3f})" for c in failing[:5])
                            + (f" and {len(failing) - 5} more" if len(failing) > 5 else ""))
        evidence["pair_trends_ratio"] = ratio
        if ratio is not None and ratio < p["min_pair_trends_ratio"]:
            structure = results.get("structure") or {}
            baseline = (structure.get("real_vs_real") or {}).get("column_pair_trends")
            problems.append(f"column pair trends keep {ratio:.0%} of the real-vs-real baseline {_figure(baseline)} "
                            f"(at least {p['min_pair_trends_ratio']:.0%}); worst pairs: "
                            + "; ".join(_pair_text(pair) for pair in evidence["worst_pairs"][:3]))
    if problems:
        return CheckResult(Status.FAIL, f"Run #{run.pk}: " + "; ".join(problems), value=auc, threshold=max_auc,
                           evidence_url=_run_url(run), evidence=evidence)
    return CheckResult(
        Status.PASS, f"Realism AUC {auc:.3f} ≤ {max_auc} ({classifier}, {band}); fidelity report #{report.pk} against "
        f"{report.anchor_version}" + (f", pair trends {ratio:.0%} of the real-vs-real baseline" if ratio else ""),
        value=auc, threshold=max_auc, evidence_url=_run_url(run), evidence=evidence,
    )


@careful_check("A", "A.fidelity", "Fidelity and realism measured against the real anchor")
def fidelity(version, use, params):
    run = selectors.latest_succeeded_run(version)
    if run is None:
        return missing("No succeeded gate run: realism and fidelity are not measured yet.",
                       threshold=fidelity_thresholds(params)["max_auc"])
    return assess_fidelity(run, selectors.realism_metrics(run), selectors.fidelity_report(run), params)
