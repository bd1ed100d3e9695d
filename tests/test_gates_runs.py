"""Gate runs end to end: configuration refused before a run, runs through the
Celery task (eager, and once on a real worker), a crashing gate, re-run
determinism, redelivery, the accepted pool, the CLI and the scorecard checks."""
import datetime
import io
import random

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from gates import careful_checks, selectors, services
from gates.models import FidelityReport, GateRun, GateStep, GateStepResult, Rejection
from registry.choices import Origin, Use, VersionState
from registry.errors import Conflict
from registry.lineage import content_hash
from registry.models import DatasetVersion, Example
from scorecard.checks import Status

from .conftest import wait_until
from .factories import make_dataset, make_version
from .gates_helpers import anchor_dataset, decisions, gate_doubles, gated_version, generator, run_now  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]

WORD_THEN_SAMPLE = [{"gate": "t_word", "params": {}}, {"gate": "t_sample", "params": {"share": 0.25}}]


@pytest.fixture
def version(alice, tenant_a, gate_doubles):
    version = gated_version(alice, tenant_a)
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=WORD_THEN_SAMPLE)
    return version


# Configuration and start: refused before a run exists ---------------------------

def test_a_cascade_is_stored_in_order_with_history(alice, version):
    cascade = version.dataset.gate_cascade
    assert cascade.revision == 1 and cascade.step_config() == WORD_THEN_SAMPLE
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=WORD_THEN_SAMPLE[::-1])
    cascade.refresh_from_db()
    assert cascade.revision == 2 and [s.gate for s in cascade.steps.all()] == ["t_sample", "t_word"]
    assert cascade.history.count() == 2
    # Every step row change is attributed: 2 created, then 2 deleted and 2 created.
    assert GateStep.history.filter(history_user=alice).count() == 6
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=WORD_THEN_SAMPLE[::-1])
    cascade.refresh_from_db()
    assert cascade.revision == 2, "an unchanged cascade is not a new revision"


@pytest.mark.parametrize("steps, message", [
    ([], "A cascade needs at least one gate."),
    ([{"gate": "t_word"}, {"gate": "no_such_gate"}], "step 2: unknown gate 'no_such_gate'"),
    ([{"gate": "t_sample", "params": {"share": 1.5}}], "step 1 (t_sample): share must be between 0.0 and 1.0, got 1.5"),
    ([{"gate": "t_sample", "params": {"shares": 0.5}}], "step 1 (t_sample): unknown parameter 'shares'"),
    ([{"gate": "t_word", "params": {"word": 3}}], "step 1 (t_word): word must be a str"),
])
def test_bad_cascades_are_refused_naming_the_step_and_parameter(alice, version, steps, message):
    with pytest.raises(ValidationError) as error:
        services.configure_cascade(actor=alice, dataset=version.dataset, steps=steps)
    assert any(m.startswith(message) for m in error.value.message_dict["steps"]), error.value.message_dict
    assert version.dataset.gate_cascade.step_config() == WORD_THEN_SAMPLE, "nothing half-written"


def test_a_viewer_cannot_configure_nor_run(bob, version):
    with pytest.raises(PermissionDenied):
        services.configure_cascade(actor=bob, dataset=version.dataset, steps=WORD_THEN_SAMPLE)
    with pytest.raises(PermissionDenied):
        services.start_gate_run(actor=bob, version=version)
    assert not GateRun.objects.exists()


def test_a_gate_needing_the_anchor_is_refused_without_one(alice, version):
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=[{"gate": "t_word"}, {"gate": "t_anchor"}])
    with pytest.raises(ValidationError) as error:
        services.start_gate_run(actor=alice, version=version)
    assert "step 2 (t_anchor)" in error.value.message_dict["real_anchor"][0]
    assert not GateRun.objects.exists()


def test_only_drafts_and_versions_in_review_are_gated(alice, version):
    DatasetVersion.objects.filter(pk=version.pk).update(state=VersionState.APPROVED)
    with pytest.raises(Conflict) as error:
        services.start_gate_run(actor=alice, version=version)
    assert error.value.code == "not_gateable"


def test_a_run_queued_before_approval_does_not_change_the_approved_evidence(alice, version):
    run = services.start_gate_run(actor=alice, version=version, enqueue=False)
    DatasetVersion.objects.filter(pk=version.pk).update(state=VersionState.APPROVED)
    run = services.execute_gate_run(run_id=run.pk)
    assert run.status == "failed" and "became approved before the run started" in run.error
    assert not run.results.exists()


def test_one_run_at_a_time_and_not_on_an_empty_version(alice, tenant_a, version):
    services.start_gate_run(actor=alice, version=version, enqueue=False)
    with pytest.raises(Conflict):
        services.start_gate_run(actor=alice, version=version, enqueue=False)
    empty = make_version(alice, make_dataset(alice, tenant_a, "empty"))
    services.configure_cascade(actor=alice, dataset=empty.dataset, steps=WORD_THEN_SAMPLE)
    with pytest.raises(ValidationError, match="no examples"):
        services.start_gate_run(actor=alice, version=empty)


# Runs ---------------------------------------------------------------------------

def test_a_run_through_the_task_stores_steps_rejections_and_the_pool(alice, version,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_gate_run(actor=alice, version=version, seed=7)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.progress == 100 and run.attempts == 1
    assert set(run.software) == {"python", "numpy", "scikit-learn", "registry"}
    assert run.steps == [{"gate": "t_word", "params": {"word": "spam"}},
                         {"gate": "t_sample", "params": {"share": 0.25}}]
    first, second = selectors.step_results(run)
    assert (first.gate, first.count_in, first.count_out) == ("t_word", 22, 20)
    assert second.count_in == 20 and second.metrics["picked"] == 20 - second.count_out
    spam = run.rejections.filter(position=1)
    assert sorted(r.example.text for r in spam) == ["Another spam ticket, totally real",
                                                     "Synthetic spam ticket: buy now"]
    assert spam.first().reason == "contains 'spam'" and spam.first().details == {"word": "spam"}
    assert run.pool_count == 22 and run.accepted_count == 22 - run.rejections.count()
    accepted = selectors.accepted_examples(version)
    assert accepted.count() == run.accepted_count and not accepted.filter(text__contains="spam").exists()


def test_a_re_run_with_the_same_parameters_rejects_the_same_examples(alice, version):
    first = run_now(alice, version, seed=3)
    second = run_now(alice, version, seed=3)
    other_seed = run_now(alice, version, seed=4)
    assert first.pk != second.pk and decisions(first) and decisions(first) == decisions(second)
    assert decisions(first) != decisions(other_seed)
    assert selectors.latest_succeeded_run(version) == other_seed


def test_a_crashing_gate_fails_the_run_and_keeps_the_earlier_steps(alice, version):
    services.configure_cascade(actor=alice, dataset=version.dataset,
                               steps=[{"gate": "t_word"}, {"gate": "t_crash"}, {"gate": "t_sample"}])
    run = run_now(alice, version)
    assert run.status == "failed" and run.failed_position == 2 and run.finished_at
    assert run.error.startswith("RuntimeError: the gate fell over") and "in _crash" in run.error
    assert [r.gate for r in selectors.step_results(run)] == ["t_word"]
    assert set(run.rejections.values_list("gate", flat=True)) == {"t_word"} and run.rejections.count() == 2
    assert selectors.latest_succeeded_run(version) is None and not selectors.accepted_examples(version).exists()


def test_a_step_whose_rejections_cannot_be_stored_writes_nothing_of_itself(alice, version):
    services.configure_cascade(actor=alice, dataset=version.dataset,
                               steps=[{"gate": "t_word"}, {"gate": "t_unstorable"}])
    run = run_now(alice, version)
    assert run.status == "failed" and run.failed_position == 2 and "TypeError" in run.error
    assert [r.position for r in selectors.step_results(run)] == [1] and run.rejections.count() == 2


def test_a_task_for_a_finished_run_does_nothing(alice, version):
    run = run_now(alice, version)
    before = (decisions(run), GateStepResult.objects.count(), run.finished_at)
    again = services.execute_gate_run(run_id=run.pk)
    assert again.attempts == 1 and (decisions(again), GateStepResult.objects.count(), again.finished_at) == before


def test_a_redelivered_task_resumes_after_the_stored_steps(alice, version):
    """The worker dies after step 1 (the message is redelivered): the new
    delivery keeps step 1 as stored and writes only what is missing."""
    run = services.start_gate_run(actor=alice, version=version, enqueue=False)

    def die_after_the_first_step(done, total, gate):
        raise KeyboardInterrupt  # not an Exception: nothing marks the run failed, as with a lost worker

    with pytest.raises(KeyboardInterrupt):
        services.execute_gate_run(run_id=run.pk, listener=die_after_the_first_step)
    run.refresh_from_db()
    assert run.status == "running" and GateStepResult.objects.filter(run=run).count() == 1
    step_one = list(Rejection.objects.filter(run=run).values_list("pk", flat=True))
    run = services.execute_gate_run(run_id=run.pk)
    assert run.status == "succeeded" and run.attempts == 2
    assert set(step_one) <= set(Rejection.objects.filter(run=run).values_list("pk", flat=True))
    assert decisions(run) == decisions(run_now(alice, version))


def test_the_accepted_pool_leaves_out_human_rejections(alice, version, monkeypatch):
    run = run_now(alice, version)
    human = version.examples.exclude(pk__in=run.rejections.values("example_id")).first()
    monkeypatch.setattr(selectors, "human_rejected_ids", lambda v: {human.pk})
    assert selectors.accepted_count(version) == (run, run.accepted_count - 1)
    assert not selectors.accepted_examples(version).filter(pk=human.pk).exists()


# The real library, the anchor and fidelity -----------------------------------------

def test_the_default_cascade_runs_against_the_anchor_with_a_fidelity_report(alice, tenant_a):
    anchor = anchor_dataset(alice, tenant_a)
    version = gated_version(alice, tenant_a, anchor=anchor)
    run = run_now(alice, version)
    assert run.status == "succeeded", run.error
    assert run.cascade_revision is None and run.anchor_version == anchor.versions.get()
    assert [s["gate"] for s in run.steps] == [s["gate"] for s in services.default_steps(Use.TRAINING)]
    report = FidelityReport.objects.get(run=run)
    assert report.version == version and report.anchor_version == run.anchor_version and report.results
    assert selectors.realism_metrics(run)["auc"] is not None
    assert decisions(run_now(alice, version)) == decisions(run), "the library's gates are deterministic too"


def test_tabular_rows_are_gated_as_canonical_json(alice, tenant_a):
    def rows(version, count, offset, origin, generator=None):
        Example.objects.bulk_create([
            Example(version=version, ordinal=i + 1, data=(data := {"amount": float(offset + i % 7), "country": "DE"}),
                    content_hash=content_hash(data=data), dup_rank=i // 7, label="ok", origin=origin,
                    generator=generator, prompt_hash="p" * 64 if generator else "")
            for i in range(count)
        ])

    anchor = make_dataset(alice, tenant_a, "tab-anchor", kind="real_anchor", modality="tabular")
    rows(make_version(alice, anchor, max_synthetic_ratio=None), 30, 0, Origin.REAL)
    version = make_version(alice, make_dataset(alice, tenant_a, "tab", modality="tabular"), real_anchor=anchor,
                           allow_duplicates=True)
    rows(version, 21, 100, Origin.SYNTHETIC, generator(alice))
    pool = services.load_rows(version)
    assert pool.texts[0] == '{"amount":100.0,"country":"DE"}' and pool.data[0] == {"amount": 100.0, "country": "DE"}
    run = run_now(alice, version)
    assert run.status == "succeeded", run.error
    assert run.rejections.filter(gate="exact_dedup").count() == 14, "the 2nd and 3rd copy of each of 7 rows"
    assert run.fidelity_report.results["modality"] == "tabular"


# CLI ---------------------------------------------------------------------------------

def test_the_cli_runs_with_a_progress_bar_or_queues(alice, version):
    out, err = io.StringIO(), io.StringIO()
    call_command("run_gates", version.dataset.slug, str(version.number), "--wait", "--seed", "5",
                 stdout=out, stderr=err)
    run = GateRun.objects.get()
    assert f"gate run #{run.pk} succeeded: 22 candidates" in out.getvalue()
    assert "2/2" in err.getvalue() and run.seed == 5 and run.created_by == alice
    call_command("run_gates", version.dataset.slug, str(version.number), stdout=out)
    assert "queued" in out.getvalue() and GateRun.objects.filter(status="queued").count() == 1
    with pytest.raises(CommandError, match="still queued"):
        call_command("run_gates", version.dataset.slug, str(version.number), "--wait")
    with pytest.raises(CommandError, match="No version 9"):
        call_command("run_gates", version.dataset.slug, "9")


def test_the_cli_exits_non_zero_when_a_gate_crashes(alice, version):
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=[{"gate": "t_crash"}])
    with pytest.raises(CommandError, match="RuntimeError: the gate fell over"):
        call_command("run_gates", version.dataset.slug, str(version.number), "--wait", stderr=io.StringIO())


# Scorecard checks ---------------------------------------------------------------------

def test_f_checks_follow_the_runs(alice, version):
    assert careful_checks.cascade_ran(version, Use.TRAINING, {}).status == Status.MISSING
    assert careful_checks.reject_set_retained(version, Use.TRAINING, {}).status == Status.MISSING
    run = run_now(alice, version)
    ran = careful_checks.cascade_ran(version, Use.TRAINING, {})
    assert ran.status == Status.FAIL and "format" in ran.verdict, "the training cell's gates did not run"
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=services.default_steps(Use.RED_TEAM))
    kept = careful_checks.reject_set_retained(version, Use.TRAINING, {})
    assert kept.status == Status.PASS and kept.value == run.rejections.count()
    run.rejections.filter(position=1).first().delete()
    kept = careful_checks.reject_set_retained(version, Use.TRAINING, {})
    assert kept.status == Status.FAIL and "step 1 (t_word) removed 2 but 1 rejection(s) are stored" in kept.verdict
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=[*WORD_THEN_SAMPLE, {"gate": "t_crash"}])
    failed = run_now(alice, version)
    ran = careful_checks.cascade_ran(version, Use.TRAINING, {})
    assert ran.status == Status.FAIL and f"#{failed.pk} failed: RuntimeError" in ran.verdict


def test_f_cascade_ran_passes_with_the_cells_cascade_and_warns_after_a_change(alice, tenant_a):
    anchor = anchor_dataset(alice, tenant_a)
    version = gated_version(alice, tenant_a, anchor=anchor)
    run_now(alice, version)
    assert careful_checks.cascade_ran(version, Use.TRAINING, {}).status == Status.PASS
    steps = services.default_steps(Use.TRAINING)
    steps[0]["params"]["min_chars"] = 5
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=steps)
    assert careful_checks.cascade_ran(version, Use.TRAINING, {}).status == Status.WARN


def _with_realism(run, **metrics):
    GateStepResult.objects.filter(run=run, gate="realism").update(metrics=metrics)


def test_a_fidelity_reads_the_realism_auc_and_its_null_band(alice, tenant_a):
    anchor = anchor_dataset(alice, tenant_a)
    version = gated_version(alice, tenant_a, anchor=anchor)
    assert careful_checks.fidelity(version, Use.TRAINING, {"max_auc": 0.6}).status == Status.MISSING
    run = run_now(alice, version)
    _with_realism(run, auc=0.52, null_low=0.41, null_high=0.59, verdict="indistinguishable")
    result = careful_checks.fidelity(version, Use.TRAINING, {"max_auc": 0.6})
    assert result.status == Status.PASS and result.value == 0.52 and "null band 0.410–0.590" in result.verdict
    _with_realism(run, auc=0.83, null_low=0.41, null_high=0.59, verdict="distinguishable")
    result = careful_checks.fidelity(version, Use.TRAINING, {"max_auc": 0.6})
    assert result.status == Status.FAIL and "0.830 > 0.6" in result.verdict
    _with_realism(run, auc=0.22, null_low=0.41, null_high=0.59, verdict="suspicious_copy")
    result = careful_checks.fidelity(version, Use.TRAINING, {"max_auc": 0.6})
    assert result.status == Status.FAIL and "copying real ones" in result.verdict
    FidelityReport.objects.filter(run=run).delete()
    assert careful_checks.fidelity(version, Use.TRAINING, {"max_auc": 0.6}).status == Status.MISSING


# A real worker -------------------------------------------------------------------------

@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_completes_on_a_real_worker(celery_worker_process, alice, tenant_a):
    version = gated_version(alice, tenant_a)
    services.configure_cascade(actor=alice, dataset=version.dataset,
                               steps=[{"gate": "format"}, {"gate": "exact_dedup"}])
    run = services.start_gate_run(actor=alice, version=version)
    assert wait_until(lambda: GateRun.objects.get(pk=run.pk).status in ("succeeded", "failed"), timeout=90)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.pool_count == 22 and run.progress == 100


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_is_reclaimed_and_resumes_after_the_stored_steps(celery_worker_process, alice,
                                                                                  tenant_a):
    rng = random.Random(0)
    words = "refund card charge account order email late password bank dispute erase data request".split()
    rows = [(" ".join(rng.choice(words) for _ in range(12)) + f" #{i}", rng.choice("abc")) for i in range(4000)]
    version = gated_version(alice, tenant_a, "slow", rows)
    steps = [{"gate": "format"}, {"gate": "label_consistency"}, {"gate": "label_consistency",
                                                                 "params": {"min_confidence": 0.6}}]
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=steps)
    run = services.start_gate_run(actor=alice, version=version)
    assert wait_until(lambda: GateStepResult.objects.filter(run=run).exists(), timeout=90)
    celery_worker_process.kill()
    killed = GateRun.objects.get(pk=run.pk)
    assert killed.status == "running" and killed.results.count() < 3, "the kill came mid-run"
    celery_worker_process.start()
    assert services.reclaim_stale_runs(older_than=datetime.timedelta(0)) == [run.pk]
    assert wait_until(lambda: GateRun.objects.get(pk=run.pk).status in ("succeeded", "failed"), timeout=180)
    done = GateRun.objects.get(pk=run.pk)
    assert done.status == "succeeded" and done.attempts >= 2 and done.results.count() == 3
    assert decisions(done) == decisions(run_now(alice, version)), "resumed = run in one go"


def test_stale_runs_give_up_after_three_attempts(alice, version):
    run = services.start_gate_run(actor=alice, version=version, enqueue=False)
    GateRun.objects.filter(pk=run.pk).update(status="running", attempts=3, heartbeat_at=run.created_at)
    assert services.reclaim_stale_runs(older_than=datetime.timedelta(0)) == []
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "Worker lost 3 times; giving up."


# Demo ------------------------------------------------------------------------------------

def test_the_demo_gates_the_synthetic_version_and_catches_its_planted_problems(tenant_a):
    from gates.demo import extend_demo
    from registry import demo

    story = demo.base_story()
    extend_demo(story)
    run = story.extra["gate_run"]
    assert run.status == "succeeded" and run.pool_count == 119, run.error
    rejected = dict(run.rejections.values_list("example__ordinal", "gate"))
    assert {13: "exact_dedup", 31: "exact_dedup", 89: "pii", 96: "pii"}.items() <= rejected.items()
    assert {48, 61, 76} <= {ordinal for ordinal, gate in rejected.items() if gate == "near_dup"}
    assert run.fidelity_report.anchor_version.dataset == story.anchor
    assert careful_checks.reject_set_retained(run.version, Use.TRAINING, {}).status == Status.PASS
