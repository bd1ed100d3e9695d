"""The scorecard's truth table: every letter × the state of its evidence →
the letter's status and the use decision.

Each case gives the training cell a policy that requires one real check for
the letter under test, then produces that check's evidence through the
services, as users would: a legal review, an anchor, ingested lineage, a
leakage scan, judge scores, sign-offs, a monitor run. "waived" is missing
evidence covered by a governance reviewer's waiver; "waiver expired" is the same
waiver after the clock passed its date. A missing real anchor is never waived.

    state           letter status     use (on CAREFUL grounds)
    passing         pass              allowed
    failing         fail              denied
    missing         missing           denied
    waived          waived            allowed   (A: the waiver is refused; missing, denied)
    waiver expired  missing           denied
"""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance import selectors as governance_selectors, services as governance
from governance.models import Decision
from judges import services as judges
from registry import services as registry
from registry.choices import Role
from scorecard import services
from training import services as training

from .factories import install_workflow_policy, make_dataset, make_user, make_version
from .lineage_helpers import ingest, synthetic_row, write_jsonl
from .monitoring_helpers import blobs, make_coverage_monitor, run_now
from .scorecard_helpers import flagged_anchor, set_policy
from .test_training_mix import add_examples, eval_version

pytestmark = pytest.mark.django_db

STATES = ["passing", "failing", "missing", "waived", "waiver expired"]
EXPECTED = {"passing": ("pass", True), "failing": ("fail", False), "missing": ("missing", False),
            "waived": ("waived", True), "waiver expired": ("missing", False)}


class Case:
    """Tenant A's people and a draft synthetic version to build evidence on."""

    def __init__(self, alice, tenant, tmp_path, capture):
        self.owner, self.tenant, self.tmp_path, self.capture = alice, tenant, tmp_path, capture
        self.lena = make_user("lena", tenant=tenant, roles=[Role.LEGAL_REVIEWER])
        self.gwen = make_user("gwen", tenant=tenant, roles=[Role.GOVERNANCE_REVIEWER])
        self.generator = registry.register_generator(actor=alice, name="sim-llm", version="2026-09")
        registry.create_prompt_template(actor=alice, tenant=tenant, name="ticket", body="Write a {intent} ticket.")
        self.version = make_version(alice, make_dataset(alice, tenant, "truth"))

    def rows(self, n=3, complete=True):
        extra = {} if complete else {"sampling_params": None, "intended_use": None}
        rows = [synthetic_row(i, text=f"Synthetic ticket {i} about a refund", seed_ordinal=None,
                              seed_external_id=f"seed-{i}", **extra) for i in range(1, n + 1)]
        assert ingest(self.owner, self.version, write_jsonl(self.tmp_path / "rows.jsonl", rows)).status == "succeeded"

    def submit(self):
        governance.submit_for_review(actor=self.owner, version=self.version)

    def sign(self, reviewer, role, decision=Decision.APPROVE, comment=""):
        governance.sign_off(actor=reviewer, version=self.version, role=role, decision=decision, comment=comment)


def c_evidence(case, state):
    if state == "missing":
        return
    case.submit()
    if state == "passing":
        case.sign(case.lena, Role.LEGAL_REVIEWER)
    else:
        case.sign(case.lena, Role.LEGAL_REVIEWER, Decision.REQUEST_CHANGES, "Name the data controller.")


def a_evidence(case, state):
    if state == "missing":
        return
    _, anchor_version = flagged_anchor(case.owner, case.tenant, "truth-anchor",
                                       never_train_on=state == "passing", eval_exclusion=state == "passing")
    registry.update_manifest(actor=case.owner, version=case.version, data={"real_anchor": anchor_version.dataset})


def r_evidence(case, state):
    if state != "missing":
        case.rows(complete=state == "passing")


def e_evidence(case, state):
    case.rows()
    if state == "missing":
        return
    family = training.create_model_family(actor=case.owner, tenant=case.tenant, name="intents")
    evaluation = eval_version(case.owner, case.tenant, "holdout", [("A real ticket about an invoice", "billing")])
    if state == "failing":  # the version holds an evaluation item: an exact leak
        add_examples(case.version, [("A real ticket about an invoice", "billing", "real")])
    evaluation_set = training.designate_evaluation_set(actor=case.owner, family=family, version=evaluation)
    scan = training.request_leakage_scan(actor=case.owner, evaluation_set=evaluation_set,
                                         candidates=[case.version], enqueue=False)
    training.run_leakage_scan(scan_id=scan.pk)


def f_evidence(case, state):
    case.rows()
    if state == "missing":
        return
    judges.configure_panel(actor=case.owner, dataset=case.version.dataset, judges=["rubric", "classifier"],
                           disagreement_threshold=0.3, accept_threshold=0.5, calibration_rate=0.0, seed=1)
    second = 0.1 if state == "failing" else 0.8
    rows = [{"example": i, "judge": judge, "score": score}
            for i in range(1, 4) for judge, score in (("rubric", 0.8), ("classifier", second))]
    judges.upload_judge_scores(actor=case.owner, version=case.version, rows=judges.rows_from_json(rows))


def u_evidence(case, state):
    if state == "missing":
        return
    case.submit()
    case.sign(case.lena, Role.LEGAL_REVIEWER)
    if state == "passing":
        case.sign(case.gwen, Role.GOVERNANCE_REVIEWER)


def l_evidence(case, state):
    if state == "missing":
        return
    monitor = make_coverage_monitor(case.owner, case.tenant, case.version)
    far = 0.3 if state == "failing" else 0.0
    run_now(case.owner, monitor, case.capture, blobs(200, seed=7, far_share=far), scheduled_for=None)


LETTERS = {
    "C": ("C.legal_signoff", {}, c_evidence),
    "A": ("A.real_anchor", {}, a_evidence),
    "R": ("R.lineage_complete", {"min_share": 1.0}, r_evidence),
    "E": ("E.leakage_clean", {}, e_evidence),
    "F": ("F.judges_resolved", {}, f_evidence),
    "U": ("U.signoffs_complete", {}, u_evidence),
    "L": ("L.monitors_healthy", {}, l_evidence),
}


def letter(version, name):
    return next(row for row in services.compute_scorecard(version, "training").letters if row.letter == name)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", list(LETTERS))
def test_truth_table(name, state, alice, tenant_a, tmp_path, django_capture_on_commit_callbacks, time_machine):
    install_workflow_policy()
    code, params, produce = LETTERS[name]
    set_policy(checks={code: params})
    case = Case(alice, tenant_a, tmp_path, django_capture_on_commit_callbacks)
    produce(case, "missing" if state.startswith("waive") else state)
    version = case.version
    if state.startswith("waive"):
        reviewer = make_user("waiving-reviewer", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER])
        grant = dict(actor=reviewer, version=version, letter=name, reason="evidence is being produced",
                     expires_at=timezone.localdate() + datetime.timedelta(days=5))
        if name == "A":
            with pytest.raises(ValidationError, match="missing real anchor"):
                services.grant_waiver(**grant)
        else:
            services.grant_waiver(**grant)
        if state == "waiver expired":
            time_machine.move_to(timezone.now() + datetime.timedelta(days=6))
    status, allowed = EXPECTED[state]
    if name == "A" and state.startswith("waive"):
        status, allowed = "missing", False
    row = letter(version, name)
    assert (str(row.status), not row.blocking) == (status, allowed), row.verdict
    careful_denials = [d for d in governance_selectors.use_denials(version=version, tenant=tenant_a, use="training")
                       if d.code == "careful_failing"]
    assert (not careful_denials) == allowed, careful_denials
    if state == "waiver expired" and name != "A":
        assert "expired on" in row.verdict
