"""Shared by tests/test_gates_*.py: small gated versions with a real anchor,
and gates registered only for the test (one that rejects by word, a seeded
sampler, one that crashes)."""
import numpy as np
import pytest

from gates import services
from gates.base import GATES, Param, Reject, gate
from registry import services as registry
from registry.choices import DatasetKind, Origin
from registry.models import Generator

from .factories import make_dataset, make_version
from .test_training_mix import add_examples

ANCHOR_ROWS = [(f"Real ticket {i}: my card was charged twice for order {1000 + i}", "billing") for i in range(12)]
POOL_ROWS = [(f"Synthetic ticket {i}: please refund order {2000 + i}", "billing") for i in range(20)] + [
    ("Synthetic spam ticket: buy now", "billing"),
    ("Another spam ticket, totally real", "billing"),
]
TEST_GATES = ("t_word", "t_sample", "t_crash", "t_anchor", "t_unstorable")


def _word(ctx):
    word = ctx.params["word"]
    return [Reject(index=i, reason=f"contains {word!r}", details={"word": word})
            for i, text in enumerate(ctx.pool.texts) if word in text]


def _sample(ctx):
    """Rejects a seeded random share: a re-run with the same seed must reject the same rows."""
    rng = np.random.default_rng(ctx.seed)
    picked = np.flatnonzero(rng.random(len(ctx.pool)) < ctx.params["share"])
    ctx.metrics["picked"] = int(len(picked))
    return [Reject(index=int(i), reason="sampled out", details={"draw": int(i)}) for i in picked]


def _crash(ctx):
    raise RuntimeError("the gate fell over")


@pytest.fixture
def gate_doubles():
    gate("t_word", "Rejects by word", params={"word": Param("spam")})(_word)
    gate("t_sample", "Seeded sampler", params={"share": Param(0.3, 0.0, 1.0)})(_sample)
    gate("t_crash", "Crashes")(_crash)
    gate("t_anchor", "Needs the anchor", needs_anchor=True)(lambda ctx: [])
    # Returns details JSON cannot store: the step's write fails, not the gate.
    gate("t_unstorable", "Unstorable details")(lambda ctx: [Reject(index=0, reason="x", details={"x": object()})])
    yield
    for name in TEST_GATES:
        GATES.pop(name, None)


def generator(actor):
    existing = Generator.objects.filter(name="gate-test-llm", version="1").first()
    return existing or registry.register_generator(actor=actor, name="gate-test-llm", version="1")


def anchor_dataset(owner, tenant, slug="gate-anchor", rows=ANCHOR_ROWS):
    dataset = make_dataset(owner, tenant, slug, kind=DatasetKind.REAL_ANCHOR)
    version = make_version(owner, dataset, max_synthetic_ratio=None)
    add_examples(version, [(text, label, Origin.REAL) for text, label in rows])
    return dataset


def gated_version(owner, tenant, slug="gated", rows=POOL_ROWS, *, anchor=None, **manifest):
    version = make_version(owner, make_dataset(owner, tenant, slug), real_anchor=anchor, **manifest)
    add_examples(version, [(text, label, Origin.SYNTHETIC) for text, label in rows], generator=generator(owner))
    return version


def decisions(run):
    return sorted(run.rejections.values_list("example_id", "gate", "position", "reason"))


def run_now(actor, version, **kwargs):
    """Start a gate run and execute it in this process (the task body)."""
    run = services.start_gate_run(actor=actor, version=version, enqueue=False, **kwargs)
    return services.execute_gate_run(run_id=run.pk)
