"""Evaluation isolation: designating eval sets, leakage scans (exact, near,
seed), generator-provenance checks, and the E checks that read them."""
import pytest
from django.core.exceptions import ValidationError

from registry.choices import Origin, Use
from registry.models import Example
from scorecard.checks import CHECKS, Status
from training import selectors, services
from training.models import AuditEntry, EvaluationSet, JobStatus, LeakKind

from .factories import make_dataset, make_version
from .test_training_mix import add_examples, eval_version, family, generator, synthetic_version  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]

EVAL_TEXTS = [
    ("I want all my personal data erased under GDPR article seventeen right now please", "gdpr_erasure"),
    ("My card was charged twice for the same order and I am disputing the second charge", "chargeback"),
    ("I am filing a formal complaint with the financial regulator about your handling", "regulator"),
    ("Please close my account and confirm in writing that the balance is paid out", "closure"),
]


@pytest.fixture
def eval_set(alice, tenant_a, family):
    version = eval_version(alice, tenant_a, "holdout", EVAL_TEXTS)
    return services.designate_evaluation_set(actor=alice, family=family, version=version)


@pytest.fixture
def leaky_candidate(alice, tenant_a, generator, eval_set):
    """A synthetic version with one exact copy, one near copy and one seed echo of eval items."""
    eval_rows = list(Example.objects.filter(version=eval_set.version).order_by("ordinal"))
    rows = [
        (EVAL_TEXTS[0][0], "gdpr_erasure"),  # exact copy
        (EVAL_TEXTS[1][0].replace("second charge", "second charge today"), "chargeback"),  # near copy
        ("Write-up of a totally different request about shipping labels and parcels", "regulator", eval_rows[2]),
    ] + [(f"unrelated synthetic ticket {i} about a delayed parcel and tracking numbers", "shipping")
         for i in range(20)]
    return synthetic_version(alice, tenant_a, "syn-leaky", rows, generator)


def test_designation_flags_rows_and_writes_an_audit_row(alice, eval_set):
    flags = Example.objects.filter(version=eval_set.version).values_list("eval_exclusion", "never_train_on")
    assert set(flags) == {(True, True)} and eval_set.rows_flagged == 4 and eval_set.is_real
    assert AuditEntry.objects.get(action="eval_set_designated").rows_affected == 4
    assert eval_set.history.first().history_user == alice


def test_a_synthetic_version_cannot_be_an_eval_set_unless_red_team(alice, tenant_a, family, generator):
    synthetic = synthetic_version(alice, tenant_a, "syn-eval", [("a synthetic ticket", "x")], generator)
    with pytest.raises(ValidationError) as refused:
        services.designate_evaluation_set(actor=alice, family=family, version=synthetic)
    assert "not a real holdout" in refused.value.message_dict["version"][0]
    assert not Example.objects.filter(version=synthetic, eval_exclusion=True).exists()
    red_team = make_version(alice, make_dataset(alice, tenant_a, "red-team"), use_cell=Use.RED_TEAM,
                            intended_uses=[Use.RED_TEAM], prohibited_uses=[])
    add_examples(red_team, [("attack prompt one", "attack", Origin.SYNTHETIC)], generator=generator)
    designation = services.designate_evaluation_set(actor=alice, family=family, version=red_team)
    assert not designation.is_real
    result = CHECKS["E.eval_set_real"].func(red_team, Use.TRAINING, {})
    assert result.status == Status.FAIL


def test_leakage_scan_catches_planted_exact_near_and_seed_leaks(alice, eval_set, leaky_candidate):
    scan = services.request_leakage_scan(
        actor=alice, evaluation_set=eval_set, candidates=[leaky_candidate], params={"threshold": 0.5}, enqueue=False
    )
    scan = services.run_leakage_scan(scan_id=scan.pk)
    assert scan.status == JobStatus.SUCCEEDED
    found = {(p.kind, p.eval_example.ordinal, p.training_example.ordinal) for p in selectors.scan_pairs(scan)}
    assert found == {(LeakKind.EXACT, 1, 1), (LeakKind.NEAR, 2, 2), (LeakKind.SEED, 3, 3)}
    assert (scan.exact_pairs, scan.near_pairs, scan.seed_pairs, scan.leaked_eval_items) == (1, 1, 1, 3)
    # Running the same scan again (a redelivered task) does nothing twice.
    assert services.run_leakage_scan(scan_id=scan.pk).total_pairs == 3
    failures = selectors.isolation_failures(leaky_candidate)
    assert [f.code for f in failures] == ["leakage"] and "1 exact" in failures[0].message
    result = CHECKS["E.leakage_clean"].func(leaky_candidate, Use.TRAINING, {})
    assert result.status == Status.FAIL and result.evidence_url == f"/training/scans/{scan.pk}/"


def test_a_clean_scan_passes_and_the_eval_set_check_passes(alice, tenant_a, eval_set, generator):
    clean = synthetic_version(alice, tenant_a, "syn-clean", [
        (f"a parcel tracking question number {i} with nothing in common", "shipping") for i in range(10)
    ], generator)
    scan = services.request_leakage_scan(actor=alice, evaluation_set=eval_set, candidates=[clean], enqueue=False)
    assert services.run_leakage_scan(scan_id=scan.pk).is_clean
    assert selectors.isolation_failures(clean) == []
    assert CHECKS["E.leakage_clean"].func(clean, Use.TRAINING, {}).status == Status.PASS
    assert CHECKS["E.eval_set_real"].func(clean, Use.TRAINING, {}).status == Status.PASS
    assert CHECKS["E.generator_provenance"].func(clean, Use.TRAINING, {}).status == Status.MISSING


def test_a_failed_scan_blocks_mixing_the_leaky_version(alice, tenant_a, family, eval_set, leaky_candidate):
    from .test_training_mix import real_version, texts

    scan = services.request_leakage_scan(
        actor=alice, evaluation_set=eval_set, candidates=[leaky_candidate], enqueue=False
    )
    services.run_leakage_scan(scan_id=scan.pk)
    real = real_version(alice, tenant_a, "real-train", texts("r", 50, "shipping"))
    with pytest.raises(ValidationError) as refused:
        services.build_training_mix(actor=alice, tenant=tenant_a, family=family, name="m",
                                    components=[real, leaky_candidate])
    assert "Leakage scan" in " ".join(refused.value.message_dict["components"])


def test_provenance_check_catches_a_synthetic_eval_item(alice, tenant_a, family, generator):
    version = eval_version(alice, tenant_a, "holdout-2", EVAL_TEXTS, approve=False)
    designation = services.designate_evaluation_set(actor=alice, family=family, version=version)
    # The eval version is still a draft: a later ingestion slips in a generated row.
    add_examples(version, [("a generated ticket asking to close the account", "closure", Origin.SYNTHETIC)],
                 generator=generator)
    training = synthetic_version(alice, tenant_a, "syn-train", [("some ticket", "x")], generator)
    check = services.check_generator_provenance(actor=alice, evaluation_set=designation, candidates=[training])
    assert not check.passed
    assert (check.synthetic_eval_items, check.shared_generator_items) == (1, 1)
    assert {f["kind"] for f in check.findings} == {"synthetic_lineage", "shared_generator"}
    assert list(check.shared_generators.all()) == [generator]
    result = CHECKS["E.generator_provenance"].func(training, Use.TRAINING, {})
    assert result.status == Status.FAIL and f"/training/provenance-checks/{check.pk}/" == result.evidence_url
    assert "provenance" in [f.code for f in selectors.isolation_failures(version)]


def test_a_new_designation_supersedes_the_old_one_but_keeps_its_flags(alice, tenant_a, family, eval_set):
    newer = eval_version(alice, tenant_a, "holdout-3", [("another real ticket", "closure")])
    services.designate_evaluation_set(actor=alice, family=family, version=newer)
    assert list(EvaluationSet.objects.filter(family=family, active=True).values_list("version", flat=True)) == [
        newer.pk
    ]
    assert not Example.objects.filter(version=eval_set.version, never_train_on=False).exists()


def test_isolation_checks_use_a_constant_number_of_queries(alice, eval_set, leaky_candidate,
                                                           django_assert_max_num_queries):
    scan = services.request_leakage_scan(actor=alice, evaluation_set=eval_set, candidates=[leaky_candidate],
                                         enqueue=False)
    services.run_leakage_scan(scan_id=scan.pk)
    for code in ("E.eval_set_real", "E.leakage_clean", "E.generator_provenance"):
        with django_assert_max_num_queries(2):
            CHECKS[code].func(leaky_candidate, Use.TRAINING, {})
    with django_assert_max_num_queries(3):
        selectors.isolation_failures(leaky_candidate)
