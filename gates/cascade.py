"""The pure cascade runner: validate every step, then run each gate on the
survivors of the ones before it. No database: the caller applies each step's
rejects in ``on_step`` (atomically, one step at a time)."""
import time
from dataclasses import dataclass, field

from registry.choices import Use

from . import library  # noqa: F401  (registers the gates)
from .base import GATES, GateContext, Reject

ORDER = ("format", "exact_dedup", "pii", "near_dup", "realism", "label_consistency")
# Default parameter overrides and gates left out, per use cell. Evaluation data
# is held to a stricter near-duplicate threshold; red-team, demo and
# software-testing data are meant to be unusual, so realism and label
# consistency are not asked of them; privacy-preserving sharing collects
# shorter digit runs from the anchor as identifiers.
CELL_DEFAULTS = {
    Use.TRAINING: {},
    Use.EVALUATION: {"near_dup": {"threshold": 0.7}},
    Use.RED_TEAM: {"realism": None, "label_consistency": None},
    Use.DEMO: {"realism": None, "label_consistency": None},
    Use.PRIVACY: {"pii": {"min_digits": 5}},
    Use.SOFTWARE_TESTING: {"realism": None, "label_consistency": None},
}


class CascadeError(Exception):
    """The cascade cannot start; ``messages`` says why, one line per problem."""

    def __init__(self, messages):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass
class StepOutcome:
    gate: str
    params: dict  # every parameter, defaults filled in
    count_in: int
    count_out: int
    rejects: list[Reject]  # indices into the pool given to run_cascade
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


def default_steps(use_cell=Use.TRAINING):
    """The cell's default cascade as ``[{"gate", "params"}]`` (overrides only)."""
    overrides = CELL_DEFAULTS.get(use_cell, {})
    return [
        {"gate": name, "params": dict(overrides.get(name) or {})}
        for name in ORDER
        if name in GATES and not (name in overrides and overrides[name] is None)
    ]


DEFAULT_STEPS = [(step["gate"], step["params"]) for step in default_steps()]


def validate(steps, anchor):
    """The steps with defaults merged, or CascadeError listing every problem."""
    messages, resolved = [], []
    if not steps:
        messages.append("a cascade needs at least one gate")
    for position, (name, params) in enumerate(steps, 1):
        spec = GATES.get(name)
        if spec is None:
            messages.append(f"step {position}: unknown gate {name!r}; known gates: {', '.join(sorted(GATES))}")
            continue
        if not isinstance(params, dict):
            messages.append(f"step {position} ({name}): params must be a mapping")
            continue
        messages += [f"step {position} ({name}): {m.removeprefix(f'{name}: ')}" for m in spec.validate(params)]
        if spec.needs_anchor and (anchor is None or len(anchor) == 0):
            messages.append(f"step {position} ({name}): needs a real anchor and the dataset has none")
        resolved.append((spec, {**spec.defaults(), **params}))
    if messages:
        raise CascadeError(messages)
    return resolved


def run_cascade(pool, anchor, steps, *, seed, modality, allowed_labels, on_step=None):
    """Run ``steps`` ([(gate name, params)]) in order; return a StepOutcome per
    step. Raises CascadeError before any gate runs when the steps are invalid."""
    resolved = validate(steps, anchor)
    survivors = list(range(len(pool)))
    outcomes = []
    for spec, params in resolved:
        rows = pool if len(survivors) == len(pool) else pool.subset(survivors)
        ctx = GateContext(pool=rows, anchor=anchor, params=params, seed=seed, modality=modality,
                          allowed_labels=list(allowed_labels))
        start = time.perf_counter()
        rejects = spec.func(ctx)
        seconds = time.perf_counter() - start
        indices = [r.index for r in rejects]
        if len(set(indices)) != len(indices) or any(not 0 <= i < len(rows) for i in indices):
            raise ValueError(f"gate {spec.name} returned repeated or out-of-range reject indices")
        rejected = set(indices)
        outcome = StepOutcome(
            gate=spec.name, params=params, count_in=len(rows), count_out=len(rows) - len(rejected),
            rejects=sorted((Reject(survivors[r.index], r.reason, r.details) for r in rejects), key=lambda r: r.index),
            metrics=ctx.metrics, seconds=seconds,
        )
        survivors = [s for i, s in enumerate(survivors) if i not in rejected]
        if on_step is not None:
            on_step(outcome)
        outcomes.append(outcome)
    return outcomes
