"""Each letter from evidence: full evidence passes; removing one piece flips
exactly the letter it feeds, with the right reason; use cells and policies."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from governance import services as governance
from governance.models import Decision
from registry import services as registry_services
from registry.choices import Role
from registry.models import DatasetVersion, Manifest, VersionLineage
from scorecard import services
from scorecard.checks import CHECKS, Status
from scorecard.models import ScorecardPolicy
from scorecard.selectors import history

from .factories import make_user, make_version, policy_admin
from .scorecard_helpers import CATALOG_EVIDENCE, build_evidence, check, flagged_anchor, letters, set_policy

pytestmark = pytest.mark.django_db

REQUIRED = {"C", "A", "R", "U", "L"}


@pytest.fixture
def evidence(alice, tenant_a, tmp_path):
    set_policy(checks=CATALOG_EVIDENCE)
    return build_evidence(alice, tenant_a, tmp_path)


def test_a_version_with_full_evidence_passes_every_required_letter(evidence):
    scorecard = services.compute_scorecard(evidence.version, "training")
    assert letters(scorecard) == {"C": "pass", "A": "pass", "R": "pass", "E": "na", "F": "na", "U": "pass", "L": "pass"}
    assert scorecard.allowed and services.failing_letters(evidence.version, "training") == []
    for row in scorecard.letters:
        for result in row.checks:
            assert result.evidence_url, result.code
    assert check(scorecard, "A.real_anchor").verdict.startswith(f"Real anchor {evidence.anchor.slug} v1")


def manifest_change(**data):
    def change(evidence):
        registry_services.update_manifest(actor=evidence.owner, version=evidence.version, data=data)
    return change


def unflag_anchor(evidence):
    registry_services.update_manifest(actor=evidence.owner, version=evidence.anchor_version, data={"never_train_on": False})


def tamper_hash(evidence):
    Manifest.objects.filter(version=evidence.version).update(content_hash="0" * 64)


def incomplete_lineage(evidence):
    VersionLineage.objects.filter(version=evidence.version).update(synthetic_complete=F("synthetic") - 1)


def flag_for_review(evidence):
    DatasetVersion.objects.filter(pk=evidence.version.pk).update(needs_review=True)


REMOVALS = [
    # (what is removed, letter, status, words of the reason)
    (manifest_change(purpose_gap=""), "C.purpose_worksheet", "fail", "lacks the gap"),
    (manifest_change(purpose_success_criterion="  "), "C.purpose_worksheet", "fail", "the success criterion"),
    (manifest_change(real_anchor=None), "A.real_anchor", "missing", "No real anchor"),
    (unflag_anchor, "A.real_anchor", "fail", "not flagged never_train_on"),
    (manifest_change(max_synthetic_ratio=None), "A.ratio_cap_set", "fail", "No max synthetic ratio"),
    (manifest_change(max_synthetic_ratio=0.8), "A.ratio_cap_set", "fail", "exceeds this cell's cap of 0.5"),
    (tamper_hash, "R.manifest_hashed", "fail", "does not match"),
    (incomplete_lineage, "R.lineage_complete", "fail", "1 of 3 synthetic rows lack"),
    (manifest_change(intended_uses=[]), "U.uses_declared", "fail", "No intended use"),
    (manifest_change(intended_uses=["demo"]), "U.uses_declared", "fail", "training is not an intended use"),
    (manifest_change(tenant_scope=[]), "U.tenant_scope_set", "fail", "No tenant scope"),
    (flag_for_review, "U.lifecycle_state", "warn", "flagged it for review"),
    (manifest_change(expires_at=None), "L.expiry_set", "fail", "No expiry date"),
    (manifest_change(expires_at=datetime.date(2020, 1, 1)), "L.expiry_set", "fail", "Expired on 2020-01-01"),
    (manifest_change(expires_at=timezone.localdate() + datetime.timedelta(days=500)), "L.expiry_set", "warn",
     "beyond this cell's 365-day horizon"),
]


@pytest.mark.parametrize("remove, code, status, reason", REMOVALS, ids=[f"{r[1]}-{r[3]}" for r in REMOVALS])
def test_removing_one_piece_of_evidence_flips_exactly_its_letter(evidence, remove, code, status, reason):
    remove(evidence)
    scorecard = services.compute_scorecard(evidence.version, "training")
    letter = code[0]
    expected = {other: ("pass" if other in REQUIRED else "na") for other in "CAREFUL"}
    expected[letter] = status
    assert letters(scorecard) == expected
    assert check(scorecard, code).status == status
    assert reason in check(scorecard, code).verdict
    assert reason in next(row for row in scorecard.letters if row.letter == letter).verdict
    blocks = status == "fail" or status == "missing"  # the test policy says missing evidence blocks
    assert scorecard.failing == ([letter] if blocks else [])


def test_no_examples_is_missing_lineage_evidence(alice, tenant_a, tmp_path):
    set_policy(checks=CATALOG_EVIDENCE)
    version = build_evidence(alice, tenant_a, tmp_path, rows=0).version
    scorecard = services.compute_scorecard(version, "training")
    assert check(scorecard, "R.lineage_complete").status == Status.MISSING
    assert letters(scorecard)["R"] == "missing"
    # Evidence, not intention: missing evidence blocks like a failure, in every cell.
    assert scorecard.failing == ["R"]


def test_a_required_check_no_app_provides_is_missing_evidence_and_blocks(evidence, alice, monkeypatch):
    monkeypatch.delitem(CHECKS, "F.cascade_ran", raising=False)
    set_policy(checks={**CATALOG_EVIDENCE, "F.cascade_ran": {}})
    scorecard = services.compute_scorecard(evidence.version, "training")
    result = check(scorecard, "F.cascade_ran")
    assert (result.status, result.has_source) == (Status.MISSING, False)
    assert "no evidence source yet" in result.verdict.lower()
    assert letters(scorecard)["F"] == "missing" and "F" in scorecard.failing


def test_suspended_and_retired_versions_fail_use_limits(evidence, alice, tenant_a):
    lena = make_user("lena-sc", tenant=tenant_a, roles=[Role.LEGAL_REVIEWER], is_staff=True)
    gwen = make_user("gwen-sc", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER], is_staff=True)
    governance.submit_for_review(actor=alice, version=evidence.version)
    governance.sign_off(actor=lena, version=evidence.version, role=Role.LEGAL_REVIEWER, decision=Decision.APPROVE)
    governance.sign_off(actor=gwen, version=evidence.version, role=Role.GOVERNANCE_REVIEWER, decision=Decision.APPROVE)
    governance.suspend(actor=gwen, version=evidence.version, reason="Drift alert on rare intents")
    scorecard = services.compute_scorecard(evidence.version, "training")
    assert check(scorecard, "U.lifecycle_state").verdict == "The version is suspended."
    assert scorecard.failing == ["U"] and not scorecard.allowed
    # Governance denies a suspended version under its own reason; the letter is not cited twice.
    assert services.failing_letters(evidence.version, "training") == []


# Use cells -----------------------------------------------------------------

def test_synthetic_data_used_for_evaluation_fails_E_outright_unless_red_team(evidence):
    evaluation = services.compute_scorecard(evidence.version, "evaluation")
    result = check(evaluation, "E.not_synthetic_eval")
    assert result.status == Status.FAIL and "only red-team may evaluate on synthetic data" in result.verdict
    assert "E" in evaluation.failing
    red_team = services.compute_scorecard(evidence.version, "red_team")
    assert "E.not_synthetic_eval" not in {c.code for row in red_team.letters for c in row.checks}
    assert letters(red_team)["E"] != "fail"


def test_a_real_holdout_may_evaluate(alice, tenant_a):
    _, anchor_version = flagged_anchor(alice, tenant_a)
    scorecard = services.compute_scorecard(anchor_version, "evaluation")
    assert check(scorecard, "E.not_synthetic_eval").status == Status.PASS


def test_demo_needs_only_C_and_U(evidence):
    scorecard = services.compute_scorecard(evidence.version, "demo")
    assert {row.letter for row in scorecard.letters if row.required} == {"C", "U"}
    assert letters(scorecard)["A"] == "na"


def test_high_harm_without_verifier_gets_the_strictest_cell(alice, tenant_a, tmp_path):
    strict = ScorecardPolicy.objects.get(use_cell="training", harm="high", cheap_verifier=False)
    lenient = ScorecardPolicy.objects.get(use_cell="training", harm="low", cheap_verifier=True)
    assert strict.max_synthetic_ratio < lenient.max_synthetic_ratio
    assert strict.checks["L.expiry_set"]["max_days"] < lenient.checks["L.expiry_set"]["max_days"]
    version = build_evidence(alice, tenant_a, tmp_path, rows=0, harm_if_wrong="high", max_synthetic_ratio=0.3).version
    scorecard = services.compute_scorecard(version, "training")
    assert check(scorecard, "A.ratio_cap_set").verdict == "Max synthetic ratio 0.3 exceeds this cell's cap of 0.2."
    assert "A" in scorecard.failing and "R" in scorecard.failing


# Policies ------------------------------------------------------------------

def test_a_policy_edit_changes_the_verdict_and_is_in_history(evidence, alice):
    version = evidence.version
    first, created = services.record_snapshot(version, "training")
    assert created and first.failing == []
    assert services.record_snapshot(version, "training") == (first, False)
    policy = set_policy(checks={**CATALOG_EVIDENCE, "A.ratio_cap_set": {"max_ratio": 0.1}})
    scorecard = services.compute_scorecard(version, "training")
    assert scorecard.failing == ["A"] and "cap of 0.1" in check(scorecard, "A.ratio_cap_set").verdict
    second, created = services.record_snapshot(version, "training")
    assert created and second.failing == ["A"]
    newest, older = history(version, "training")[:2]
    assert newest == second and newest.changed == ["A"] and newest.policy_changed
    assert older == first
    edits = policy.history.order_by("-history_date")
    assert edits[0].history_user == policy_admin() and edits[0].checks["A.ratio_cap_set"] == {"max_ratio": 0.1}


def test_unknown_check_codes_in_a_policy_are_refused_by_name(db):
    policy = ScorecardPolicy.objects.get(use_cell="demo", harm="low", cheap_verifier=True)
    with pytest.raises(ValidationError) as refused:
        services.update_policy(actor=policy_admin(), policy=policy, checks={"C.purpose_worksheet": {}, "Z.vibes_ok": {}})
    assert "Z.vibes_ok" in str(refused.value.message_dict["checks"])
    with pytest.raises(ValidationError) as refused:
        services.update_policy(actor=policy_admin(), policy=policy, checks={"C.purpose_worksheet": 0.5})
    assert "must be a JSON object" in str(refused.value.message_dict["checks"])
    policy.refresh_from_db()
    assert "Z.vibes_ok" not in policy.checks


def test_the_shipped_policy_covers_every_cell_with_known_codes():
    from registry.choices import Harm, Use

    assert ScorecardPolicy.objects.count() == len(Use.values) * len(Harm.values) * 2
    for policy in ScorecardPolicy.objects.all():
        policy.full_clean()
    evaluation = ScorecardPolicy.objects.get(use_cell="evaluation", harm="medium", cheap_verifier=False)
    assert "E.not_synthetic_eval" in evaluation.checks


# Governance refuses approval and use while a letter blocks ------------------

def test_governance_refuses_approval_and_use_citing_the_failing_letter(alice, tenant_a, dataset_a, workflow_policy):
    from registry.errors import Conflict

    version = make_version(alice, dataset_a, max_synthetic_ratio=0.9)
    lena = make_user("lena-gv", tenant=tenant_a, roles=[Role.LEGAL_REVIEWER], is_staff=True)
    gwen = make_user("gwen-gv", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER], is_staff=True)
    governance.submit_for_review(actor=alice, version=version)
    governance.sign_off(actor=lena, version=version, role=Role.LEGAL_REVIEWER, decision=Decision.APPROVE)
    governance.sign_off(actor=gwen, version=version, role=Role.GOVERNANCE_REVIEWER, decision=Decision.APPROVE)
    version.refresh_from_db()
    assert version.state == "in_review"
    with pytest.raises(Conflict, match="CAREFUL letter\\(s\\) A do not pass"):
        governance.approve(actor=gwen, version=version)


def test_catalog_evidence_changes_record_history_after_commit(evidence, django_capture_on_commit_callbacks):
    version = evidence.version
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.update_manifest(actor=evidence.owner, version=version, data={"max_synthetic_ratio": 0.9})
    newest = history(version, "training")[0]
    assert newest.failing == ["A"] and newest.checks["A.ratio_cap_set"]["status"] == "fail"
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.update_manifest(actor=evidence.owner, version=version, data={"max_synthetic_ratio": 0.2})
    assert [snap.failing for snap in history(version, "training")[:2]] == [[], ["A"]]
