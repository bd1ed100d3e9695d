"""Issue 16's "must show" on seeded tables built from scikit-learn's bundled
datasets (gates.planted_tabular: breast cancer, wine; no network). For each table:
a faithful Gaussian copula passes A; independently shuffled columns fail A with
an AUC ≥ 0.9 and the broken pairs named; a third of the rows copied from the
anchor are filtered by exact dedup, or flagged as copies by the distance to the
closest record when nudged past it; rows taken from the evaluation set fail E
through the training app's leakage scan."""
import pytest
from django.urls import reverse

from gates import careful_checks, planted_tabular, selectors
from gates.base import Rows
from gates.cascade import run_cascade
from registry.choices import DatasetKind, Origin, Use
from registry.lineage import canonical_data, content_hash
from registry.models import Example
from scorecard.checks import Status
from scorecard.services import policy_for

from .factories import make_dataset, make_version
from .gates_helpers import generator, run_now

TABLES = list(planted_tabular.DATASETS)


@pytest.fixture(scope="module")
def tables():
    return {name: planted_tabular.build(name, seed=0) for name in TABLES}


def rows(records):
    return Rows(ids=list(range(1, len(records) + 1)), texts=[canonical_data(r) for r in records],
                labels=[""] * len(records), hashes=[""] * len(records), data=list(records))


# -- Pure: exact copies never reach the realism gate ---------------------------------------

@pytest.mark.parametrize("name", TABLES)
def test_exact_dedup_filters_the_rows_copied_from_the_anchor(tables, name):
    table = tables[name]
    outcomes = run_cascade(rows(table.pools["copies"]), rows(table.anchor), [("format", {}), ("exact_dedup", {})],
                           seed=0, modality="tabular", allowed_labels=[])
    rejected = {r.index: r.reason for r in outcomes[1].rejects}
    assert set(table.planted["copies"]) <= set(rejected), "every copied row is filtered"
    assert len(table.planted["copies"]) >= len(table.pools["copies"]) // 3 - 1
    assert all(rejected[i].startswith("Exact copy of real anchor example") for i in table.planted["copies"])


# -- Through the gate job, the scorecard check and the run page ---------------------------------

def tabular_version(owner, tenant, slug, records, *, kind=DatasetKind.SYNTHETIC, anchor=None, labels=None):
    dataset = make_dataset(owner, tenant, slug, kind=kind, modality="tabular")
    real = kind != DatasetKind.SYNTHETIC
    version = make_version(owner, dataset, real_anchor=anchor, **({"max_synthetic_ratio": None} if real else {}))
    maker = None if real else generator(owner)
    seen = {}
    examples = []
    for ordinal, record in enumerate(records, 1):
        digest = content_hash(data=record)
        seen[digest] = seen.get(digest, -1) + 1
        examples.append(Example(
            version=version, ordinal=ordinal, data=record, content_hash=digest, dup_rank=seen[digest],
            label=labels[ordinal - 1] if labels else "", origin=Origin.REAL if real else Origin.SYNTHETIC,
            generator=maker, prompt_hash="" if real else "p" * 64,
        ))
    Example.objects.bulk_create(examples)
    return version


def gate_and_check(owner, tenant, table, case):
    anchor = tabular_version(owner, tenant, f"{table.name}-anchor", table.anchor, kind=DatasetKind.REAL_ANCHOR)
    version = tabular_version(owner, tenant, f"{table.name}-{case}".replace("_", "-"), table.pools[case],
                              anchor=anchor.dataset)
    run = run_now(owner, version)
    assert run.status == "succeeded", run.error
    # The stored policy of the version's cell (training, medium harm) as the scorecard reads it.
    params = policy_for(version.manifest, Use.TRAINING).checks["A.fidelity"]
    return run, careful_checks.fidelity(version, Use.TRAINING, params)


@pytest.mark.django_db
@pytest.mark.parametrize("name", TABLES)
def test_a_faithful_copula_passes_a(alice, tenant_a, tables, name):
    run, result = gate_and_check(alice, tenant_a, tables[name], "faithful")
    assert result.status == Status.PASS, result.verdict
    m = selectors.realism_metrics(run)
    # Below the band is no copy while no synthetic row sits closer to a real one than real rows do.
    assert m["auc"] <= 0.6 and m["verdict"] in ("indistinguishable", "below_null_band") and m["passes"]
    assert m["copies"]["exact_copy_share"] == 0 and m["copies"]["copy_excess"] <= 0.01
    assert m["null_low"] < 0.5 < m["null_high"] and m["null_coverage"] == 0.9
    assert result.evidence["classifier"] == "boosting" and result.evidence["failing_columns"] == []
    assert result.evidence["pair_trends_ratio"] >= 0.9
    assert set(result.evidence["thresholds"]) == {"max_auc", "min_column_shape", "min_pair_trends_ratio",
                                                  "max_copy_share"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", TABLES)
def test_shuffled_columns_fail_a_naming_the_broken_pairs_on_the_run_page(client, alice, tenant_a, tables, name):
    run, result = gate_and_check(alice, tenant_a, tables[name], "shuffled")
    assert result.status == Status.FAIL and result.value >= 0.9
    assert result.evidence["classifier"] == "boosting"
    # What the registry said before: the linear model calls the pool indistinguishable or below chance.
    assert result.evidence["second_opinion"]["classifier"] == "linear"
    assert result.evidence["second_opinion"]["auc"] < 0.5
    assert "told apart" in result.verdict and "worst pairs" in result.verdict
    worst = result.evidence["worst_pairs"]
    assert worst and all(p["score"] < 0.8 for p in worst[:3])
    first = worst[0]
    related = first.get("real_correlation", first.get("real_association"))
    broken = first.get("synthetic_correlation", first.get("synthetic_association"))
    assert abs(related) > 0.5 and abs(broken) < 0.3, first
    assert " × ".join(first["columns"]) in result.verdict
    client.force_login(alice)
    page = client.get(reverse("gaterun-page", args=[run.pk])).content.decode()
    assert 'id="fidelity-check" data-status="fail"' in page and 'id="worst-pairs"' in page
    assert " × ".join(first["columns"]) in page


@pytest.mark.django_db
@pytest.mark.parametrize("name", TABLES)
def test_nudged_copies_pass_dedup_and_fail_a_as_copies(alice, tenant_a, tables, name):
    run, result = gate_and_check(alice, tenant_a, tables[name], "near_copies")
    assert not run.rejections.filter(gate="exact_dedup").exists()
    m = selectors.realism_metrics(run)
    assert m["verdict"] == "suspicious_copy" and m["auc"] < m["null_low"] and m["copies"]["exact_copy_share"] == 0
    assert result.status == Status.FAIL
    assert "copy evidence agrees" in result.verdict and "near copies of real rows" in result.verdict
    assert result.evidence["copy_excess"] > 0.3


@pytest.mark.django_db
@pytest.mark.parametrize("name", TABLES)
def test_rows_taken_from_the_evaluation_set_fail_e(alice, tenant_a, tables, name):
    from training import careful_checks as training_checks
    from training import services as training

    table = tables[name]
    labels = [row[table.label_column] for row in table.evaluation]
    holdout = tabular_version(alice, tenant_a, f"{name}-eval".replace("_", "-"), table.evaluation,
                              kind=DatasetKind.REAL_HOLDOUT, labels=labels)
    leaky = tabular_version(alice, tenant_a, f"{name}-leaky".replace("_", "-"), table.pools["eval_rows"])
    clean = tabular_version(alice, tenant_a, f"{name}-clean".replace("_", "-"), table.pools["faithful"])
    family = training.create_model_family(actor=alice, tenant=tenant_a, name=f"{name}-classifier")
    eval_set = training.designate_evaluation_set(actor=alice, family=family, version=holdout)
    for version in (leaky, clean):
        scan = training.request_leakage_scan(actor=alice, evaluation_set=eval_set, candidates=[version],
                                             enqueue=False)
        training.run_leakage_scan(scan_id=scan.pk)
    result = training_checks.leakage_clean(leaky, Use.TRAINING, {})
    assert result.status == Status.FAIL and result.value >= len(table.planted["eval_rows"])
    assert training_checks.leakage_clean(clean, Use.TRAINING, {}).status == Status.PASS
