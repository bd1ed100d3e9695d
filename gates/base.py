"""The gate contract: a gate is a pure function from a candidate pool (and the
real anchor) to the rejects it decides. It touches no database, so the cascade
runner can apply a gate's decisions atomically, or none of them when it fails.

    from gates.base import Param, Reject, gate

    @gate("near_dup", "Near-duplicate clustering", params={"threshold": Param(0.8, 0.0, 1.0)})
    def near_dup(ctx):
        ...
        return [Reject(index=i, reason="near duplicate of example id 812", details={"cluster": 3})]

Gate modules register on import; ``gates.library`` imports them all.
"""
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Rows:
    """A column-oriented slice of examples; ``texts`` holds the text, or for
    tabular rows the canonical string of their columns."""

    ids: list[int]
    texts: list[str]
    labels: list[str]
    hashes: list[str]
    data: list[dict | None] = field(default_factory=list)

    def __len__(self):
        return len(self.ids)

    def subset(self, indices):
        indices = list(indices)
        return Rows(
            ids=[self.ids[i] for i in indices],
            texts=[self.texts[i] for i in indices],
            labels=[self.labels[i] for i in indices],
            hashes=[self.hashes[i] for i in indices],
            data=[self.data[i] for i in indices] if self.data else [],
        )


@dataclass
class Reject:
    index: int  # position in the pool the gate was given
    reason: str  # one human sentence, shown in the reject set
    details: dict = field(default_factory=dict)  # JSON-safe evidence: matched detector, cluster, score…


@dataclass
class GateContext:
    pool: Rows
    anchor: Rows | None
    params: dict
    seed: int
    modality: str  # registry.choices.Modality value: "text" or "tabular"
    allowed_labels: list[str] = field(default_factory=list)
    # Figures a gate reports beside its rejects (AUC, null band, cluster count…); stored on the step.
    metrics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    default: object
    min: float | None = None
    max: float | None = None
    choices: tuple = ()  # the values a string parameter may take (any when empty)

    def check(self, name, value):
        """The error naming ``name`` if ``value`` is out of type or range, else None."""
        kind = type(self.default)
        if self.choices:
            return None if value in self.choices else f"{name} must be one of {', '.join(self.choices)}, got {value!r}"
        if kind is bool:
            return None if isinstance(value, bool) else f"{name} must be true or false"
        if kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
                return f"{name} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
            if self.min is not None and value < self.min or self.max is not None and value > self.max:
                return f"{name} must be between {self.min} and {self.max}, got {value!r}"
            return None
        if kind is list:
            return None if isinstance(value, list) else f"{name} must be a list"
        return None if isinstance(value, kind) else f"{name} must be a {kind.__name__}"


@dataclass(frozen=True)
class GateSpec:
    name: str
    title: str
    func: Callable[[GateContext], list[Reject]]
    params: dict[str, Param]
    needs_anchor: bool = False

    def defaults(self):
        return {name: p.default for name, p in self.params.items()}

    def validate(self, params):
        """Errors (each naming the gate and the parameter) for ``params``; [] when valid."""
        errors = [f"{self.name}: unknown parameter {name!r}" for name in params if name not in self.params]
        for name, spec in self.params.items():
            if name in params and (error := spec.check(name, params[name])):
                errors.append(f"{self.name}: {error}")
        return errors


GATES: dict[str, GateSpec] = {}


def gate(name, title, params=None, needs_anchor=False):
    def register(func):
        GATES[name] = GateSpec(name, title, func, params or {}, needs_anchor)
        return func

    return register
