"""The approval workflow: every transition, every refusal, separation of duties,
sign-off invalidation when the manifest changes, and two reviewers at once."""
import datetime
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from governance import services
from governance.models import Decision, Notice, SignOff, SignOffRequirement, Transition
from registry import services as registry_services
from registry.choices import Role, Use, VersionState
from registry.errors import Conflict
from registry.models import DatasetVersion, Manifest
from registry.signals import version_state_changed

from .factories import make_user, make_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]

LEGAL, GOVERNANCE = Role.LEGAL_REVIEWER, Role.GOVERNANCE_REVIEWER
requires_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are made by the dozen here; PBKDF2 would dominate the run time.
    Imported by the other governance test modules."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lena(tenant_a):
    return make_user("lena", tenant=tenant_a, roles=[LEGAL], is_staff=True)


@pytest.fixture
def gwen(tenant_a):
    return make_user("gwen", tenant=tenant_a, roles=[GOVERNANCE], is_staff=True)


@pytest.fixture
def submitted(alice, version_a):
    return services.submit_for_review(actor=alice, version=version_a)


@pytest.fixture
def reviewers(lena, gwen):
    return lena, gwen


def approved_version(submitter, dataset, reviewers, **manifest):
    """A new version of ``dataset``, submitted and signed off by both reviewers."""
    version = make_version(submitter, dataset, **manifest)
    services.submit_for_review(actor=submitter, version=version)
    return approve_fully(version, *reviewers)


def approve_fully(version, lena, gwen):
    services.sign_off(actor=lena, version=version, role=LEGAL, decision=Decision.APPROVE)
    services.sign_off(actor=gwen, version=version, role=GOVERNANCE, decision=Decision.APPROVE)
    version.refresh_from_db()
    return version


def move_past_expiry(time_machine, *versions):
    """Move the clock (never the rows: manifests and sign-offs are frozen) to the
    day after the latest expiry date of ``versions``."""
    latest = max(Manifest.objects.get(version=version).expires_at for version in versions)
    time_machine.move_to(datetime.datetime.combine(latest + datetime.timedelta(days=1), datetime.time(12),
                                                   tzinfo=datetime.timezone.utc))


def soon(days=2):
    """An expiry date ``days`` from today: the clock will pass it."""
    return timezone.localdate() + datetime.timedelta(days=days)


def legal_only_policy():
    SignOffRequirement.objects.filter(use_cell=Use.TRAINING).delete()
    SignOffRequirement.objects.create(use_cell=Use.TRAINING, role=LEGAL)


def state(version):
    return DatasetVersion.objects.get(pk=version.pk).state


def actions(version):
    return list(Transition.objects.filter(version=version).values_list("action", flat=True))


def test_submit_moves_draft_to_review_and_asks_the_reviewers(alice, lena, gwen, version_a):
    version = services.submit_for_review(actor=alice, version=version_a, comment="ready")
    assert version.state == VersionState.IN_REVIEW and version.submitted_by == alice
    transition = Transition.objects.get(version=version)
    assert (transition.from_state, transition.to_state, transition.actor, transition.reason) == (
        "draft", "in_review", alice, "ready")
    assert set(Notice.objects.filter(kind="review_requested").values_list("user__username", flat=True)) == {
        "lena", "gwen"}
    assert version.history.first().state == "in_review" and version.history.first().history_user == alice


def test_submit_refuses_an_incomplete_purpose_worksheet(alice, dataset_a):
    version = make_version(alice, dataset_a, purpose_why_not_real="")
    with pytest.raises(ValidationError) as refused:
        services.submit_for_review(actor=alice, version=version)
    assert "purpose_why_not_real" in refused.value.message_dict
    assert state(version) == VersionState.DRAFT and not Transition.objects.exists()


def test_submit_refuses_viewers_and_non_drafts(bob, alice, submitted):
    with pytest.raises(PermissionDenied):
        services.submit_for_review(actor=bob, version=submitted)
    with pytest.raises(Conflict, match="it is in review"):
        services.submit_for_review(actor=alice, version=submitted)


def test_last_required_signoff_approves_the_version(submitted, lena, gwen, alice):
    seen = []
    version_state_changed.connect(lambda **kw: seen.append((kw["old_state"], kw["new_state"])), weak=False,
                                  dispatch_uid="test-approve")
    try:
        services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
        assert state(submitted) == VersionState.IN_REVIEW
        services.sign_off(actor=gwen, version=submitted, role=GOVERNANCE, decision=Decision.APPROVE, comment="ok")
    finally:
        version_state_changed.disconnect(dispatch_uid="test-approve")
    assert state(submitted) == VersionState.APPROVED
    assert actions(submitted) == ["submit", "approve"]
    assert seen == [("in_review", "approved")]
    approved = Transition.objects.get(action="approve")
    assert approved.actor == gwen
    assert Notice.objects.filter(user=alice, kind="approved").exists()


def test_signoff_role_defaults_to_the_reviewers_open_role(submitted, lena):
    signoff = services.sign_off(actor=lena, version=submitted, decision=Decision.APPROVE)
    assert signoff.role == LEGAL and signoff.manifest_hash == submitted.manifest.content_hash


def test_explicit_approve_refuses_missing_signoffs_and_names_them(submitted, lena, gwen):
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    with pytest.raises(Conflict, match="governance_reviewer"):
        services.approve(actor=lena, version=submitted)


def test_explicit_approve_after_the_policy_dropped_a_role(submitted, lena, gwen, tenant_a):
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    legal_only_policy()
    version = services.approve(actor=lena, version=submitted, comment="policy now needs legal only")
    assert version.state == VersionState.APPROVED


def test_a_use_cell_without_policy_rows_needs_the_default_pair(submitted, lena):
    SignOffRequirement.objects.filter(use_cell=Use.TRAINING).delete()
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    assert state(submitted) == VersionState.IN_REVIEW


def test_approve_refuses_contributors_and_drafts(alice, bob, version_a, submitted, lena, gwen):
    with pytest.raises(PermissionDenied):
        services.approve(actor=bob, version=submitted)
    draft = make_version(alice, version_a.dataset)
    with pytest.raises(Conflict, match="it is a draft|it is draft"):
        services.approve(actor=gwen, version=draft)


def test_request_changes_sends_it_back_to_draft_with_the_comment(submitted, lena, alice):
    version = services.request_changes(actor=lena, version=submitted, comment="Name the real held-aside set.")
    assert version.state == VersionState.DRAFT
    assert SignOff.objects.get().decision == Decision.REQUEST_CHANGES
    assert Transition.objects.get(action="request_changes").reason == "Name the real held-aside set."
    assert Notice.objects.filter(user=alice, kind="changes_requested").exists()
    assert any("sent back for changes" in m.subject for m in mail.outbox) or not alice.email


def test_reject_needs_a_comment_and_retires_the_version(submitted, gwen):
    with pytest.raises(ValidationError) as refused:
        services.reject(actor=gwen, version=submitted, comment="  ")
    assert "comment" in refused.value.message_dict
    assert state(submitted) == VersionState.IN_REVIEW and not SignOff.objects.exists()
    version = services.reject(actor=gwen, version=submitted, comment="Seeds contain customer PII.")
    assert version.state == VersionState.RETIRED and "customer PII" in version.retired_reason


def test_refusal_signoffs_need_a_comment_in_the_database_too(submitted, gwen):
    with pytest.raises(IntegrityError), transaction.atomic():
        SignOff.objects.create(version=submitted, reviewer=gwen, role=GOVERNANCE, decision=Decision.REJECT,
                               comment="", manifest_hash="x")


def test_suspend_and_reinstate(submitted, lena, gwen, bob):
    version = approve_fully(submitted, lena, gwen)
    with pytest.raises(ValidationError):
        services.suspend(actor=gwen, version=version, reason="")
    with pytest.raises(PermissionDenied):
        services.suspend(actor=bob, version=version, reason="x")
    assert services.suspend(actor=gwen, version=version, reason="label audit").state == VersionState.SUSPENDED
    with pytest.raises(Conflict, match="it is suspended"):
        services.suspend(actor=gwen, version=version, reason="again")
    assert services.reinstate(actor=gwen, version=version).state == VersionState.APPROVED
    with pytest.raises(Conflict):
        services.reinstate(actor=gwen, version=version)
    assert actions(version) == ["submit", "approve", "suspend", "reinstate"]


def test_reinstate_refuses_a_version_that_expired_while_suspended(submitted, lena, gwen, time_machine):
    version = approve_fully(submitted, lena, gwen)
    services.suspend(actor=gwen, version=version, reason="audit")
    move_past_expiry(time_machine, version)
    with pytest.raises(Conflict, match="expiry date"):
        services.reinstate(actor=gwen, version=version)


@pytest.mark.parametrize("start", ["draft", "in_review", "approved", "suspended"])
def test_retire_from_any_state_keeps_the_record(start, alice, version_a, lena, gwen):
    version = version_a
    if start != "draft":
        services.submit_for_review(actor=alice, version=version)
    if start in ("approved", "suspended"):
        approve_fully(version, lena, gwen)
    if start == "suspended":
        services.suspend(actor=gwen, version=version, reason="audit")
    retired = services.retire_version(actor=alice, version=version, reason="superseded by v2")
    assert retired.state == VersionState.RETIRED and retired.retired_reason == "superseded by v2"
    assert Transition.objects.filter(version=version, action="retire", from_state=start).exists()
    assert version.history.count() >= 2
    with pytest.raises(Conflict, match="it is retired"):
        services.retire_version(actor=alice, version=version, reason="twice")


def test_retire_refuses_without_reason_or_role(alice, bob, version_a):
    with pytest.raises(ValidationError):
        services.retire_version(actor=alice, version=version_a, reason="")
    with pytest.raises(PermissionDenied):
        services.retire_version(actor=bob, version=version_a, reason="x")


def test_expired_versions_can_only_be_retired(submitted, lena, gwen):
    version = approve_fully(submitted, lena, gwen)
    DatasetVersion.objects.filter(pk=version.pk).update(state=VersionState.EXPIRED)
    for call in (
        lambda: services.suspend(actor=gwen, version=version, reason="x"),
        lambda: services.reinstate(actor=gwen, version=version),
        lambda: services.approve(actor=gwen, version=version),
    ):
        with pytest.raises(Conflict):
            call()
    assert services.retire_version(actor=gwen, version=version, reason="done").state == VersionState.RETIRED


def test_signing_a_version_not_in_review_is_refused(version_a, lena):
    with pytest.raises(Conflict, match="Cannot sign off"):
        services.sign_off(actor=lena, version=version_a, role=LEGAL, decision=Decision.APPROVE)


# Separation of duties

def test_the_submitter_cannot_sign_off_their_own_version(tenant_a, dataset_a, alice):
    both = make_user("both", tenant=tenant_a, roles=[Role.CONTRIBUTOR, LEGAL])
    version = make_version(alice, dataset_a)
    services.submit_for_review(actor=both, version=version)
    with pytest.raises(PermissionDenied, match="submitted"):
        services.sign_off(actor=both, version=version, role=LEGAL, decision=Decision.APPROVE)
    assert not SignOff.objects.exists()


def test_one_person_cannot_fill_two_required_roles(tenant_a, submitted, gwen):
    dual = make_user("dual", tenant=tenant_a, roles=[LEGAL, GOVERNANCE])
    services.sign_off(actor=dual, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    with pytest.raises(Conflict, match="two required roles"):
        services.sign_off(actor=dual, version=submitted, role=GOVERNANCE, decision=Decision.APPROVE)
    assert state(submitted) == VersionState.IN_REVIEW


def test_the_database_refuses_one_person_in_two_roles(tenant_a, submitted):
    dual = make_user("dual", tenant=tenant_a, roles=[LEGAL, GOVERNANCE])
    h = submitted.manifest.content_hash
    SignOff.objects.create(version=submitted, reviewer=dual, role=LEGAL, decision="approve", manifest_hash=h)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignOff.objects.create(version=submitted, reviewer=dual, role=GOVERNANCE, decision="approve", manifest_hash=h)


def test_a_role_is_filled_once_and_must_be_held(tenant_a, submitted, lena, gwen):
    other_legal = make_user("other-legal", tenant=tenant_a, roles=[LEGAL])
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    with pytest.raises(Conflict, match="already given by lena"):
        services.sign_off(actor=other_legal, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    with pytest.raises(PermissionDenied, match="not a governance reviewer"):
        services.sign_off(actor=other_legal, version=submitted, role=GOVERNANCE, decision=Decision.APPROVE)
    with pytest.raises(ValidationError):
        services.sign_off(actor=lena, version=submitted, role=Role.VIEWER, decision=Decision.APPROVE)


def test_reviewers_of_another_tenant_cannot_sign(tenant_b, submitted):
    outsider = make_user("outside-legal", tenant=tenant_b, roles=[LEGAL])
    with pytest.raises(PermissionDenied):
        services.sign_off(actor=outsider, version=submitted, role=LEGAL, decision=Decision.APPROVE)


# Sign-offs are given for a manifest hash

def test_a_manifest_change_invalidates_earlier_signoffs(alice, submitted, lena, gwen):
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    services.request_changes(actor=gwen, version=submitted, comment="Set an expiry date further out.")
    registry_services.update_manifest(actor=alice, version=submitted, data={"max_synthetic_ratio": 0.2})
    services.submit_for_review(actor=alice, version=submitted)
    services.sign_off(actor=gwen, version=submitted, role=GOVERNANCE, decision=Decision.APPROVE)
    assert state(submitted) == VersionState.IN_REVIEW, "lena's sign-off was for the old manifest"
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    assert state(submitted) == VersionState.APPROVED
    assert SignOff.objects.filter(reviewer=lena, decision="approve").count() == 2


def test_signoffs_survive_a_round_trip_without_manifest_change(alice, submitted, lena, gwen):
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    services.request_changes(actor=gwen, version=submitted, comment="Add the examples first.")
    services.submit_for_review(actor=alice, version=submitted)
    services.sign_off(actor=gwen, version=submitted, role=GOVERNANCE, decision=Decision.APPROVE)
    assert state(submitted) == VersionState.APPROVED


def test_an_approved_manifest_is_frozen(alice, submitted, lena, gwen):
    approve_fully(submitted, lena, gwen)
    with pytest.raises(Conflict):
        registry_services.update_manifest(actor=alice, version=submitted, data={"max_synthetic_ratio": 0.9})


# The scorecard gate

def test_a_failing_scorecard_blocks_approval(submitted, lena, gwen, monkeypatch):
    from scorecard import services as scorecard_services

    monkeypatch.setattr(scorecard_services, "failing_letters", lambda v, use: ["A", "F"])
    approve_fully(submitted, lena, gwen)
    assert state(submitted) == VersionState.IN_REVIEW
    with pytest.raises(Conflict, match="CAREFUL letter\\(s\\) A, F"):
        services.approve(actor=gwen, version=submitted)


# Two reviewers at the same moment (PostgreSQL row locks)

def _race(*calls):
    """Run the calls in threads released together; returns their results or errors."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as error:  # the loser's refusal is the point
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres_only
@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_reviewers_signing_at_once_approve_exactly_once(attempt, submitted, lena, gwen):
    results = _race(
        lambda: services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE),
        lambda: services.sign_off(actor=gwen, version=submitted, role=GOVERNANCE, decision=Decision.APPROVE),
    )
    assert all(isinstance(r, SignOff) for r in results), results
    assert state(submitted) == VersionState.APPROVED
    assert actions(submitted) == ["submit", "approve"]
    assert submitted.history.filter(state=VersionState.APPROVED).count() == 1


@pytest.mark.postgres_only
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_explicit_approvals_at_once_approve_exactly_once(submitted, lena, gwen, tenant_a):
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    legal_only_policy()
    admin2 = make_user("admin2", tenant=tenant_a, roles=[Role.TENANT_ADMIN])
    results = _race(
        lambda: services.approve(actor=gwen, version=submitted),
        lambda: services.approve(actor=admin2, version=submitted),
    )
    assert sum(isinstance(r, DatasetVersion) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert actions(submitted) == ["submit", "approve"]
    assert submitted.history.filter(state=VersionState.APPROVED).count() == 1



def test_a_reviewer_who_approved_may_still_send_it_back(submitted, lena):
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    version = services.request_changes(actor=lena, version=submitted, comment="Found a licence issue after all.")
    assert version.state == VersionState.DRAFT


def test_careful_checks_read_the_signoffs_for_the_current_manifest(alice, submitted, lena, gwen):
    from governance.careful_checks import legal_signoff, signoffs_complete

    assert legal_signoff(submitted, "training", {}).status == "missing"
    services.sign_off(actor=lena, version=submitted, role=LEGAL, decision=Decision.APPROVE)
    assert legal_signoff(submitted, "training", {}).status == "pass"
    assert signoffs_complete(submitted, "training", {}).status == "fail"
    services.request_changes(actor=gwen, version=submitted, comment="Tighten the ratio.")
    registry_services.update_manifest(actor=alice, version=submitted, data={"max_synthetic_ratio": 0.1})
    submitted.refresh_from_db()
    assert legal_signoff(submitted, "training", {}).status == "fail", "approval was for the old manifest"
    assert signoffs_complete(submitted, "training", {}).status == "missing"
    services.submit_for_review(actor=alice, version=submitted)
    approve_fully(submitted, lena, gwen)
    assert signoffs_complete(submitted, "training", {}).status == "pass"
