"""The CAREFUL check registry: the contract between the scorecard and the apps
that hold evidence.

Each app that holds evidence for a letter declares its checks in a module named
``careful_checks.py`` (loaded by ScorecardConfig.ready). A check is a function
``(version, use, params) -> CheckResult`` that reads evidence already stored in
the registry (rows, runs, sign-offs, stored aggregates): never a per-request
recount of examples, never a self-declared flag. ``params`` are the thresholds
the use-cell policy gives the check (e.g. {"max_auc": 0.6}); a check documents
its own defaults.

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


SEVERITY = {Status.PASS: 0, Status.WARN: 1, Status.MISSING: 2, Status.FAIL: 3}


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


@dataclass(frozen=True)
class CheckSpec:
    letter: str
    code: str
    title: str
    func: Callable


CHECKS: dict[str, CheckSpec] = {}


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
