"""Use authorization: each denial reason, the logged decision, and the three
entry points (Python helper, POST /api/authorize-use/, the CLI)."""
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from governance import selectors, services
from governance.models import Channel, UseDecision
from registry.choices import Use, VersionState
from registry.errors import NotFound
from registry.models import DatasetVersion
from scorecard import services as scorecard_services

from .factories import make_dataset, make_tenant, make_version
from .test_governance_workflow import (  # noqa: F401 (fixtures)
    approved_version, fast_passwords, gwen, lena, move_past_expiry, reviewers,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


@pytest.fixture
def approved(alice, dataset_a, reviewers):
    return approved_version(alice, dataset_a, reviewers)


def codes(version, tenant, use=Use.TRAINING):
    return [d.code for d in selectors.use_denials(version=version, tenant=tenant, use=use)]


def test_an_approved_version_is_allowed_for_its_intended_use_in_scope(approved, tenant_a):
    assert codes(approved, tenant_a) == []


@pytest.mark.parametrize("state, code", [
    (VersionState.DRAFT, "not_approved"), (VersionState.IN_REVIEW, "not_approved"),
    (VersionState.SUSPENDED, "suspended"), (VersionState.EXPIRED, "expired"), (VersionState.RETIRED, "retired"),
])
def test_each_state_but_approved_is_denied_with_its_reason(approved, tenant_a, state, code):
    DatasetVersion.objects.filter(pk=approved.pk).update(state=state, retired_reason="r" if state == "retired" else "")
    approved.refresh_from_db()
    assert codes(approved, tenant_a) == [code]


def test_a_prohibited_use_is_denied_twice_over(approved, tenant_a):
    # evaluation is prohibited by COMPLETE_MANIFEST, and so not intended either; and
    # CAREFUL's E fails synthetic data used to evaluate.
    assert codes(approved, tenant_a, Use.EVALUATION) == ["use_prohibited", "use_not_intended", "careful_failing"]


def test_a_use_not_among_intended_uses_is_denied(approved, tenant_a):
    assert codes(approved, tenant_a, Use.DEMO) == ["use_not_intended"]


def test_a_tenant_outside_the_scope_is_denied(approved, tenant_b):
    assert codes(approved, tenant_b) == ["tenant_out_of_scope"]


def test_a_wider_scope_admits_the_listed_tenant(alice, tenant_a, tenant_b, reviewers):
    version = approved_version(alice, make_dataset(alice, tenant_a), reviewers, tenant_scope=[tenant_a, tenant_b])
    assert codes(version, tenant_b) == []
    assert codes(version, make_tenant("tenant-c")) == ["tenant_out_of_scope"]


def test_a_passed_expiry_date_is_denied_before_the_job_runs(approved, tenant_a, time_machine):
    move_past_expiry(time_machine, approved)
    approved.refresh_from_db()
    assert codes(approved, tenant_a) == ["expiry_passed"]


def test_failing_careful_letters_are_denied_once_a_scorecard_exists(approved, tenant_a, monkeypatch):
    monkeypatch.setattr(scorecard_services, "failing_letters", lambda version, use: ["E"])
    denials = selectors.use_denials(version=approved, tenant=tenant_a, use=Use.TRAINING)
    assert [d.code for d in denials] == ["careful_failing"] and "E" in str(denials[0])


def test_every_reason_is_listed_at_once(alice, dataset_a, tenant_b):
    draft = make_version(alice, dataset_a)
    assert codes(draft, tenant_b, Use.EVALUATION) == [
        "not_approved", "use_prohibited", "use_not_intended", "tenant_out_of_scope", "careful_failing"]


def test_authorize_use_logs_every_decision(approved, alice, tenant_a):
    allowed = services.authorize_use(actor=alice, tenant=tenant_a, version=approved, use=Use.TRAINING)
    denied = services.authorize_use(actor=alice, tenant=tenant_a, version=approved, use=Use.DEMO)
    assert allowed.allowed and allowed.reasons == []
    assert not denied.allowed and denied.reasons[0]["code"] == "use_not_intended"
    assert UseDecision.objects.filter(asked_by=alice).count() == 2


def test_authorize_use_refuses_out_of_scope_askers_and_unknown_uses(approved, charlie, tenant_a, tenant_b, alice):
    with pytest.raises(NotFound):
        services.authorize_use(actor=charlie, tenant=tenant_b, version=approved, use=Use.TRAINING)
    with pytest.raises(ValidationError):
        services.authorize_use(actor=charlie, tenant=tenant_a, version=approved, use=Use.TRAINING)
    with pytest.raises(ValidationError):
        services.authorize_use(actor=alice, tenant=tenant_a, version=approved, use="astrology")
    assert not UseDecision.objects.exists()


# The API

def test_api_answers_allowed_by_dataset_and_number(api, alice, approved, tenant_a):
    response = api(alice).post("/api/authorize-use/", {
        "tenant": tenant_a.slug, "dataset": approved.dataset.slug, "version": approved.number, "use": "training",
    }, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["allowed"] is True and body["reasons"] == [] and body["version_id"] == approved.pk
    assert UseDecision.objects.get(pk=body["decision_id"]).channel == Channel.API


def test_api_answers_denied_with_every_reason_by_version_id(api, alice, approved, tenant_a):
    response = api(alice).post("/api/authorize-use/", {
        "tenant": tenant_a.slug, "version_id": approved.pk, "use": "evaluation"}, format="json")
    assert response.status_code == 200
    assert [r["code"] for r in response.json()["reasons"]] == ["use_prohibited", "use_not_intended", "careful_failing"]


def test_api_hides_versions_outside_scope_and_names_bad_fields(api, charlie, alice, approved, tenant_a, tenant_b):
    response = api(charlie).post("/api/authorize-use/", {
        "tenant": tenant_b.slug, "version_id": approved.pk, "use": "training"}, format="json")
    assert response.status_code == 404
    response = api(charlie).post("/api/authorize-use/", {
        "tenant": tenant_a.slug, "version_id": approved.pk, "use": "training"}, format="json")
    assert response.status_code == 400 and "tenant" in response.json()
    response = api(alice).post("/api/authorize-use/", {"tenant": tenant_a.slug, "use": "training"}, format="json")
    assert response.status_code == 400 and "version_id" in response.json()
    response = api(alice).post("/api/authorize-use/", {
        "tenant": tenant_a.slug, "version_id": approved.pk, "use": "astrology"}, format="json")
    assert response.status_code == 400 and "use" in response.json()
    assert not UseDecision.objects.exists()


def test_api_lists_decisions_in_scope_only(api, alice, charlie, approved, tenant_a):
    services.authorize_use(actor=alice, tenant=tenant_a, version=approved, use=Use.TRAINING)
    assert api(alice).get("/api/use-decisions/").json()["count"] == 1
    assert api(charlie).get("/api/use-decisions/").json()["count"] == 0


# The CLI

def test_cli_exits_0_when_allowed_and_1_with_reasons_when_denied(approved, tenant_a, capsys):
    call_command("authorize_use", tenant_a.slug, approved.dataset.slug, str(approved.number), "training")
    assert "allowed" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_status:
        call_command("authorize_use", tenant_a.slug, approved.dataset.slug, str(approved.number), "demo")
    assert exit_status.value.code == 1
    out = capsys.readouterr().out
    assert "denied" in out and "use_not_intended" in out
    assert UseDecision.objects.filter(channel=Channel.CLI).count() == 2


def test_cli_applies_a_users_scope_when_asked_as_them(approved, tenant_b, charlie):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="scope") as error:
        call_command("authorize_use", tenant_b.slug, approved.dataset.slug, "1", "training", "--as", "charlie")
    assert error.value.returncode == 2
