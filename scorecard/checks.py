"""The CAREFUL check registry: the contract between the scorecard and the apps
that hold evidence.

Each app that holds evidence for a letter declares its checks in a module named
``careful_checks.py`` (loaded by ScorecardConfig.ready). A check is a function
``(version, use, params) -> CheckResult`` that reads evidence already stored in
the registry (rows, runs, sign-offs, stored aggregates): never a per-request
recount of examples, never a self-declared flag. ``params`` are the thresholds
the use-cell policy gives the check (e.g. {"max_auc": 0.6}); a check documents
its own defaults. ``params["cell"]`` also carries the policy's cell
({"use", "harm", "cheap_verifier", "max_synthetic_ratio"}).

    from scorecard.checks import CheckResult, Status, careful_check

    @careful_check("R", "R.lineage_complete", "Every synthetic row has complete lineage")
    def lineage_complete(version, use, params):
        ...
        return CheckResult(Status.PASS, value=1.0, threshold=1.0, verdict="100% of 4,210 synthetic rows traced",
                           evidence_url=reverse(...))
"""
from dataclasses import dataclass, field
from typing import Callable

from django.db import models

LETTERS = {
    "C": "Clear purpose: why generate this?",
    "A": "Anchored reality: what real data anchors it?",
    "R": "Recorded provenance: can every example be traced?",
    "E": "Evaluation isolation: is eval kept out of training?",
    "F": "Filtering gates: what decides inclusion?",
    "U": "Use limits: what is it forbidden to do?",
    "L": "Lifecycle: how are failures caught and the dataset retired?",
}


class Status(models.TextChoices):
    # Ordered best to worst; a letter takes the worst status of its required checks.
    PASS = "pass", "Pass"
    WARN = "warn", "Warn"
    MISSING = "missing", "Missing evidence"
    FAIL = "fail", "Fail"
    # A letter only (never a check): its missing or failing evidence is covered by
    # a governance reviewer's waiver, valid today for the current manifest.
    WAIVED = "waived", "Waived"


SEVERITY = {Status.PASS: 0, Status.WARN: 1, Status.WAIVED: 2, Status.MISSING: 3, Status.FAIL: 4}


def worst(statuses):
    return max(statuses, key=SEVERITY.__getitem__, default=Status.MISSING)


@dataclass
class CheckResult:
    status: Status
    verdict: str
    value: object = None
    threshold: object = None
    evidence_url: str | None = None
    evidence: dict = field(default_factory=dict)
    # The governance denial code that already enforces this failure (e.g. "suspended"):
    # failing_letters leaves it to governance, so a use denial does not list it twice.
    decided_by: str = ""


@dataclass(frozen=True)
class CheckSpec:
    letter: str
    code: str
    title: str
    func: Callable


CHECKS: dict[str, CheckSpec] = {}

# Every code a policy may require, by owner: a required code that no app has
# registered yet shows as "missing evidence: no evidence source yet".
CATALOG = {
    "C.purpose_worksheet": "Purpose worksheet complete",
    "C.legal_signoff": "Legal review signed off the current manifest",
    "A.real_anchor": "A real anchor, flagged never-train-on and eval-exclusion",
    "A.ratio_cap_set": "A max synthetic ratio within the cell's cap",
    "A.fidelity": "Fidelity and realism measured against the real anchor",
    "R.lineage_complete": "Every synthetic row has complete lineage",
    "R.templates_versioned": "Prompts come from the versioned template store",
    "R.manifest_hashed": "The manifest's stored hash matches its content",
    "E.eval_set_real": "A real, human-labeled evaluation set is designated",
    "E.leakage_clean": "The latest leakage scan found no leaks",
    "E.generator_provenance": "No eval item shares the training data's generator lineage",
    "E.not_synthetic_eval": "Synthetic data is not used to evaluate (red-team excepted)",
    "F.cascade_ran": "The cell's gate cascade ran on this version",
    "F.reject_set_retained": "The reject set is retained with reasons",
    "F.judges_resolved": "Judge disagreements resolved",
    "F.label_accuracy": "Label accuracy from a human-reviewed sample",
    "U.uses_declared": "Intended and prohibited uses declared",
    "U.tenant_scope_set": "Tenant scope set",
    "U.signoffs_complete": "Every required role signed off the current manifest",
    "U.lifecycle_state": "Not expired, suspended or retired",
    "L.expiry_set": "Expiry date set within the cell's horizon",
    "L.monitors_configured": "Drift and slice monitors configured against a real baseline",
    "L.monitors_healthy": "Latest monitor runs pass",
}


def letter_of(code):
    return code.split(".", 1)[0]


def known_codes():
    return set(CATALOG) | set(CHECKS)


def title_of(code):
    spec = CHECKS.get(code)
    return spec.title if spec else CATALOG.get(code, code)


def careful_check(letter, code, title):
    """Register ``func`` as the check ``code`` feeding ``letter``."""
    if letter not in LETTERS:
        raise ValueError(f"unknown CAREFUL letter {letter!r}")

    def register(func):
        if code in CHECKS and CHECKS[code].func.__qualname__ != func.__qualname__:
            raise ValueError(f"check {code!r} registered twice")
        CHECKS[code] = CheckSpec(letter, code, title, func)
        return func

    return register


def missing(verdict, **kwargs):
    """The result for a check whose evidence source holds nothing yet."""
    return CheckResult(Status.MISSING, verdict, **kwargs)
