"""The findings of issue 12, each reproduced as the attacker or the new user
did it, and refused now: one permission table behind the admin, the API and the
services; evidence, not intention; a complete audit; masked PII; fail closed."""
import csv
import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from gates.masking import mask_text
from governance import audit, selectors as governance_selectors, services as governance
from governance.models import Decision, SignOff
from monitoring import services as monitoring
from registry import services
from registry.choices import RegistryRole, Role, VersionState
from registry.models import Dataset, Generator, Membership, Tenant
from scorecard import services as scorecard
from scorecard.models import ScorecardPolicy

from .conftest import api_client_for
from .factories import make_dataset, make_registry_user, make_tenant, make_user, make_version, policy_admin
from .lineage_helpers import ingest, synthetic_row, write_jsonl
from .monitoring_helpers import blobs, make_coverage_monitor, run_now
from .reliability_helpers import db_fingerprint, fingerprint_diff

pytestmark = pytest.mark.django_db

LEGAL, GOVERNANCE = Role.LEGAL_REVIEWER, Role.GOVERNANCE_REVIEWER
UNCHANGED_EXCEPT = ("sessions.Session", "axes.AccessLog", "axes.AccessAttempt", "axes.AccessFailureLog")


@pytest.fixture
def support(db):
    return make_tenant("support-ops")


@pytest.fixture
def risk(db):
    return make_tenant("risk-lab")


@pytest.fixture
def carl(support):
    return make_user("carl", tenant=support, roles=[Role.CONTRIBUTOR], is_staff=True)


@pytest.fixture
def gwen(support):
    return make_user("gwen", tenant=support, roles=[GOVERNANCE], is_staff=True)


@pytest.fixture
def lena(support):
    return make_user("lena", tenant=support, roles=[LEGAL], is_staff=True)


@pytest.fixture
def vic(support):
    return make_user("vic", tenant=support, roles=[Role.VIEWER], is_staff=True)


@pytest.fixture
def rita(risk):
    """Tenant admin and governance reviewer of risk-lab, with admin access."""
    return make_user("rita", tenant=risk, roles=[Role.TENANT_ADMIN, GOVERNANCE, Role.CONTRIBUTOR], is_staff=True)


@pytest.fixture
def dataset(carl, support):
    return make_dataset(carl, support, "support-tickets", name="Support tickets")


def lineage_rows(actor, tenant, *texts):
    """The generator and template synthetic rows name, then one row per text."""
    if not Generator.objects.filter(name="sim-llm").exists():
        services.register_generator(actor=actor, name="sim-llm", version="2026-09")
    services.create_prompt_template(actor=actor, tenant=tenant, name="ticket", body="Write a {intent} ticket.")
    return [synthetic_row(i, text=text, seed_ordinal=None, seed_external_id=f"seed-{i}")
            for i, text in enumerate(texts, 1)]


def admin_client(client, user):
    client.force_login(user)
    return client


def unchanged(action):
    """Run ``action``; return the tables it changed (sessions aside)."""
    before = db_fingerprint(exclude=UNCHANGED_EXCEPT)
    action()
    return fingerprint_diff(before, db_fingerprint(exclude=UNCHANGED_EXCEPT))


# -- Admin history revert -------------------------------------------------------

def test_a_history_revert_cannot_move_a_dataset_to_another_tenant(client, carl, rita, dataset, risk):
    services.update_dataset(actor=carl, dataset=dataset, name="Support tickets, renamed")
    history_id = dataset.history.order_by("history_id").first().history_id
    url = reverse("admin:registry_dataset_simple_history", args=[dataset.pk, history_id])
    form = {"slug": dataset.slug, "name": "stolen", "tenant": risk.pk, "owner": rita.pk, "kind": "synthetic",
            "modality": "text", "description": ""}
    outsider = admin_client(client, rita)
    assert outsider.get(url).status_code == 404
    assert unchanged(lambda: outsider.post(url, form)) == []
    dataset.refresh_from_db()
    assert dataset.tenant.slug == "support-ops"
    assert api_client_for(carl).get(f"/api/datasets/{dataset.slug}/").status_code == 200
    assert api_client_for(rita).get(f"/api/datasets/{dataset.slug}/").status_code == 404


def test_history_is_read_only_even_for_the_owner_tenants_staff(client, carl, dataset, support):
    admin_of_support = make_user("ada", tenant=support, roles=[Role.TENANT_ADMIN, Role.CONTRIBUTOR], is_staff=True)
    services.update_dataset(actor=carl, dataset=dataset, name="Second name")
    history_id = dataset.history.order_by("history_id").first().history_id
    url = reverse("admin:registry_dataset_simple_history", args=[dataset.pk, history_id])
    staff = admin_client(client, admin_of_support)
    assert staff.get(url).status_code == 200
    assert staff.post(url, {"name": "A dataset"}).status_code == 403
    dataset.refresh_from_db()
    assert dataset.name == "Second name"


# -- Roles: grants, tenants, identity fields --------------------------------------

def test_a_governance_reviewer_cannot_grant_roles_nor_create_tenants(client, gwen, rita, support):
    reviewer = admin_client(client, gwen)
    grant = {"user": rita.pk, "tenant": support.pk, "role": Role.TENANT_ADMIN}
    assert reviewer.get(reverse("admin:registry_membership_add")).status_code == 403
    assert unchanged(lambda: reviewer.post(reverse("admin:registry_membership_add"), grant)) == []
    assert unchanged(lambda: reviewer.post(reverse("admin:registry_tenant_add"), {"slug": "new", "name": "New"})) == []
    assert not Membership.objects.filter(user=rita, tenant=support).exists()
    assert api_client_for(rita).get("/api/datasets/").json()["count"] == 0
    with pytest.raises(PermissionDenied):
        services.grant_role(actor=gwen, tenant=support, user=rita, role=Role.TENANT_ADMIN)
    with pytest.raises(PermissionDenied):
        services.create_tenant(actor=gwen, slug="new", name="New")


def test_a_tenant_admin_grants_and_revokes_through_the_service_with_audit(client, gwen, rita, support):
    ada = make_user("ada", tenant=support, roles=[Role.TENANT_ADMIN], is_staff=True)
    response = admin_client(client, ada).post(reverse("admin:registry_membership_add"),
                                              {"user": rita.pk, "tenant": support.pk, "role": Role.VIEWER})
    assert response.status_code == 302
    membership = Membership.objects.get(user=rita, tenant=support)
    assert membership.history.first().history_user == ada
    response = client.post(reverse("admin:registry_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Membership.objects.filter(user=rita, tenant=support).exists()
    actions = [(row.action, row.actor) for row in audit.audit_rows(ada) if row.action.startswith("membership.")]
    assert actions == [("membership.revoked", "ada"), ("membership.granted", "ada")]
    with pytest.raises(Exception, match="last tenant admin"):
        services.revoke_role(actor=ada, membership=Membership.objects.get(user=ada, tenant=support))


def test_only_a_registry_admin_creates_tenants(support):
    registry_admin = make_registry_user(RegistryRole.REGISTRY_ADMIN)
    first = make_user("first-admin")
    tenant = services.create_tenant(actor=registry_admin, slug="fraud-lab", name="Fraud lab", first_admin=first)
    assert Membership.objects.filter(user=first, tenant=tenant, role=Role.TENANT_ADMIN).exists()
    assert tenant.history.first().history_user == registry_admin


def test_a_legal_reviewer_cannot_rename_a_slug_or_turn_a_dataset_into_a_real_anchor(client, lena, carl, dataset):
    url = reverse("admin:registry_dataset_change", args=[dataset.pk])
    legal = admin_client(client, lena)
    assert legal.get(url).status_code == 200  # may read it
    form = {"name": dataset.name, "description": "", "owner": carl.pk, "slug": "renamed", "kind": "real_anchor",
            "VersionInline-TOTAL_FORMS": 0, "VersionInline-INITIAL_FORMS": 0}
    assert unchanged(lambda: legal.post(url, form)) == []
    with pytest.raises(PermissionDenied):
        services.update_dataset(actor=lena, dataset=dataset, name="x")
    with pytest.raises(ValidationError, match="kind cannot change"):
        services.update_dataset(actor=carl, dataset=dataset, kind="real_anchor")
    with pytest.raises(ValidationError, match="slug cannot change"):
        services.update_dataset(actor=carl, dataset=dataset, slug="renamed")


def test_a_writer_edits_a_dataset_in_the_admin_through_the_service(client, support, dataset):
    ada = make_user("ada", tenant=support, roles=[Role.TENANT_ADMIN, Role.CONTRIBUTOR], is_staff=True)
    url = reverse("admin:registry_dataset_change", args=[dataset.pk])
    form = {"name": "Support tickets v2", "description": "now described", "owner": dataset.owner_id,
            "versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0}
    response = admin_client(client, ada).post(url, form)
    assert response.status_code == 302, response.content[:500]
    dataset.refresh_from_db()
    assert (dataset.name, dataset.slug, dataset.kind) == ("Support tickets v2", "support-tickets", "synthetic")
    latest = dataset.history.first()
    assert (latest.history_user, latest.history_change_reason) == (ada, "updated")


def test_owners_of_a_tenants_data_are_its_members(carl, dataset, rita):
    with pytest.raises(ValidationError, match="not a member of tenant 'support-ops'"):
        make_version(carl, dataset, owner=rita)
    with pytest.raises(ValidationError, match="not a member"):
        services.update_dataset(actor=carl, dataset=dataset, owner=rita)


# -- Shared vocabulary ------------------------------------------------------------

def test_a_user_of_another_tenant_cannot_rename_a_shared_generator(client, carl, rita):
    generator = services.register_generator(actor=carl, name="support-sim-llm", version="2026-09")
    url = reverse("admin:registry_generator_change", args=[generator.pk])
    form = {"name": "rita-renamed-generator", "version": "2026-09", "provider": "rita"}
    outsider = admin_client(client, rita)
    assert unchanged(lambda: outsider.post(url, form)) == []
    generator.refresh_from_db()
    assert generator.name == "support-sim-llm"
    with pytest.raises(PermissionDenied):
        services.update_generator(actor=rita, generator=generator, provider="rita")


def test_the_vocabulary_steward_changes_a_generators_provider_never_its_name(client, carl):
    steward = make_registry_user(RegistryRole.VOCABULARY_STEWARD, "steward")
    generator = services.register_generator(actor=carl, name="support-sim-llm", version="2026-09")
    url = reverse("admin:registry_generator_change", args=[generator.pk])
    response = admin_client(client, steward).post(url, {"name": "renamed", "version": "x", "provider": "in-house"})
    assert response.status_code == 302
    generator.refresh_from_db()
    assert (generator.name, generator.version, generator.provider) == ("support-sim-llm", "2026-09", "in-house")
    assert [row.action for row in audit.audit_rows(steward)][:2] == ["generator.changed", "generator.registered"]


def test_registering_a_generator_needs_a_role(db):
    nobody = make_user("nobody")
    with pytest.raises(PermissionDenied):
        services.register_generator(actor=nobody, name="x", version="1")
    assert not Generator.objects.exists()


# -- Policies ---------------------------------------------------------------------

def test_a_governance_reviewer_of_any_tenant_cannot_edit_the_registry_wide_policies(client, gwen, rita):
    policy = ScorecardPolicy.objects.get(use_cell="training", harm="medium", cheap_verifier=False)
    url = reverse("admin:scorecard_scorecardpolicy_change", args=[policy.pk])
    for user in (gwen, rita):
        reviewer = admin_client(client, user)
        assert reviewer.get(url).status_code == 200
        assert unchanged(lambda: reviewer.post(url, {"checks": "{}", "notes": "loosened"})) == []
        with pytest.raises(PermissionDenied):
            scorecard.update_policy(actor=user, policy=policy, checks={})
        with pytest.raises(PermissionDenied):
            governance.require_signoff_role(actor=user, use_cell="training", role=Role.TENANT_ADMIN)


def test_the_policy_admin_edits_both_policies_with_history(client):
    admin_user = policy_admin()
    policy = ScorecardPolicy.objects.get(use_cell="demo", harm="low", cheap_verifier=True)
    scorecard.update_policy(actor=admin_user, policy=policy, notes="reviewed")
    requirement = governance.require_signoff_role(actor=admin_user, use_cell="demo", role=Role.TENANT_ADMIN)
    governance.drop_signoff_role(actor=admin_user, requirement=requirement)
    assert policy.history.first().history_user == admin_user
    assert {h.history_user for h in requirement.history.all()} == {admin_user}


# -- Fail closed ------------------------------------------------------------------

def test_a_scorecard_that_cannot_be_computed_denies_use_and_approval(monkeypatch, carl, dataset, support, gwen, lena,
                                                                   workflow_policy):
    version = make_version(carl, dataset)
    governance.submit_for_review(actor=carl, version=version)

    def broken(version, use):
        raise ImportError("scorecard.services is broken")

    monkeypatch.setattr(scorecard, "failing_letters", broken)
    decision = governance.authorize_use(actor=carl, tenant=support, version=version, use="training")
    assert not decision.allowed and "careful_unavailable" in {r["code"] for r in decision.reasons}
    governance.sign_off(actor=lena, version=version, role=LEGAL, decision=Decision.APPROVE)
    governance.sign_off(actor=gwen, version=version, role=GOVERNANCE, decision=Decision.APPROVE)
    version.refresh_from_db()
    assert version.state == VersionState.IN_REVIEW
    with pytest.raises(Exception, match="could not be computed"):
        governance.approve(actor=gwen, version=version)


# -- Evidence, not intention --------------------------------------------------------

def test_missing_evidence_blocks_the_use_and_the_page_says_so(client, carl, dataset, support):
    version = make_version(carl, dataset)
    card = scorecard.compute_scorecard(version, "training")
    missing = [row.letter for row in card.letters if row.status == "missing"]
    assert {"C", "F", "L"} <= set(missing) and set(missing) <= set(card.failing)
    decision = governance.authorize_use(actor=carl, tenant=support, version=version, use="training")
    assert not decision.allowed
    page = admin_client(client, carl).get(reverse("scorecard-page", args=[dataset.slug, version.number]))
    assert "No letter blocks use" not in page.content.decode()


def test_approval_needs_evidence_for_every_required_letter(carl, dataset, gwen, lena):
    """The default policy: no judge scores and no monitor mean F and L are missing."""
    version = make_version(carl, dataset)
    governance.submit_for_review(actor=carl, version=version)
    governance.sign_off(actor=lena, version=version, role=LEGAL, decision=Decision.APPROVE)
    governance.sign_off(actor=gwen, version=version, role=GOVERNANCE, decision=Decision.APPROVE)
    version.refresh_from_db()
    assert version.state == VersionState.IN_REVIEW
    with pytest.raises(Exception, match=r"letter\(s\) .*F.*L.* do not pass"):
        governance.approve(actor=gwen, version=version)


def check_of(version, code):
    return next(c for row in scorecard.compute_scorecard(version, "training").letters for c in row.checks
                if c.code == code)


def _failing_monitor(carl, support, version, capture):
    monitor = make_coverage_monitor(carl, support, version)
    run = run_now(carl, monitor, capture, blobs(200, seed=10, far_share=0.3), scheduled_for=None)
    return monitor, run.alert


def test_acknowledging_an_alert_never_clears_the_l_block(carl, gwen, support, dataset,
                                                        django_capture_on_commit_callbacks):
    version = make_version(carl, dataset)
    monitor, alert = _failing_monitor(carl, support, version, django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied, match="Only governance reviewers acknowledge"):
        monitoring.acknowledge_alert(actor=carl, alert=alert)
    monitoring.acknowledge_alert(actor=gwen, alert=alert, note="looking")
    healthy = check_of(version, "L.monitors_healthy")
    assert healthy.status == "fail" and "acknowledged by gwen" in healthy.verdict
    assert "L" in scorecard.compute_scorecard(version, "training").failing
    # Enough clean production rows that the window's uncovered share drops under the threshold.
    passing = run_now(carl, monitor, django_capture_on_commit_callbacks, blobs(3000, seed=11), scheduled_for=None)
    assert passing.outcome == "pass"
    assert check_of(version, "L.monitors_healthy").status != "fail"


# -- Waivers ----------------------------------------------------------------------

def test_a_waiver_is_recorded_by_a_reviewer_who_is_not_the_author(carl, gwen, support, dataset, tmp_path):
    version = make_version(carl, dataset)
    ingest(carl, version, write_jsonl(tmp_path / "rows.jsonl", lineage_rows(carl, support, "A ticket.")))  # R passes
    until = timezone.localdate() + datetime.timedelta(days=10)
    colleague = make_user("colleague", tenant=support, roles=[Role.CONTRIBUTOR, GOVERNANCE])
    author_reviewer = make_user("author-reviewer", tenant=support, roles=[Role.CONTRIBUTOR, GOVERNANCE])
    own = make_version(author_reviewer, make_dataset(author_reviewer, support, "own"))
    with pytest.raises(PermissionDenied, match="Only governance reviewers"):
        scorecard.grant_waiver(actor=carl, version=version, letter="L", reason="monitor next week", expires_at=until)
    with pytest.raises(PermissionDenied, match="someone else"):
        scorecard.grant_waiver(actor=author_reviewer, version=own, letter="L", reason="mine", expires_at=until)
    with pytest.raises(ValidationError, match="reason"):
        scorecard.grant_waiver(actor=gwen, version=version, letter="L", reason=" ", expires_at=until)
    with pytest.raises(ValidationError, match="At most 90 days"):
        scorecard.grant_waiver(actor=gwen, version=version, letter="L", reason="r",
                               expires_at=timezone.localdate() + datetime.timedelta(days=91))
    with pytest.raises(ValidationError, match="cannot be waived"):
        scorecard.grant_waiver(actor=gwen, version=version, letter="A", reason="no anchor yet", expires_at=until)
    with pytest.raises(ValidationError, match="nothing to waive"):
        scorecard.grant_waiver(actor=gwen, version=version, letter="R", reason="r", expires_at=until)
    waiver = scorecard.grant_waiver(actor=colleague, version=version, letter="L", reason="monitors ship Monday",
                                    expires_at=until)
    row = next(r for r in scorecard.compute_scorecard(version, "training").letters if r.letter == "L")
    assert (row.status, row.blocking, row.waiver) == ("waived", False, waiver)
    assert ("waiver.granted", "colleague") in {(r.action, r.actor) for r in audit.audit_rows(gwen)}


def test_a_waiver_is_bound_to_the_manifest_hash(carl, gwen, dataset):
    version = make_version(carl, dataset)
    scorecard.grant_waiver(actor=gwen, version=version, letter="L", reason="monitors ship Monday",
                           expires_at=timezone.localdate() + datetime.timedelta(days=10))
    services.update_manifest(actor=carl, version=version, data={"purpose_gap": "A different gap."})
    row = next(r for r in scorecard.compute_scorecard(version, "training").letters if r.letter == "L")
    assert row.blocking and "given for an earlier manifest" in row.verdict


# -- A complete audit -----------------------------------------------------------

def test_every_governed_action_is_in_the_unified_audit_with_its_true_actor(
        client, carl, gwen, rita, support, dataset, tmp_path, django_capture_on_commit_callbacks, workflow_policy):
    ada = make_user("ada", tenant=support, roles=[Role.TENANT_ADMIN], is_staff=True)
    version = make_version(carl, dataset)
    rows = lineage_rows(carl, support, "A ticket.")
    assert ingest(carl, version, write_jsonl(tmp_path / "rows.jsonl", rows)).status == "succeeded"
    shared = api_client_for(carl).post(f"/api/datasets/{dataset.slug}/share/", {"username": rita.username},
                                       format="json")
    assert shared.status_code == 204
    services.grant_role(actor=ada, tenant=support, user=rita, role=Role.VIEWER)
    _, alert = _failing_monitor(carl, support, version, django_capture_on_commit_callbacks)
    monitoring.acknowledge_alert(actor=gwen, alert=alert)
    scorecard.grant_waiver(actor=gwen, version=version, letter="C", reason="legal review booked",
                           expires_at=timezone.localdate() + datetime.timedelta(days=5))
    rows = {(row.action, row.actor) for row in audit.audit_rows(gwen)}
    assert {("ingestion.succeeded", "carl"), ("dataset.shared", "carl"), ("membership.granted", "ada"),
            ("alert.acknowledged", "gwen"), ("waiver.granted", "gwen")} <= rows
    lines = list(csv.reader(io.StringIO(admin_client(client, gwen).get("/audit.csv").getvalue().decode())))
    assert {("dataset.shared", "carl"), ("alert.acknowledged", "gwen")} <= {(line[3], line[1]) for line in lines}
    api_rows = api_client_for(gwen).get("/api/audit/").json()
    listed = {(row["action"], row["actor"]) for row in api_rows.get("results", api_rows)}
    assert ("membership.granted", "ada") in listed


def test_history_rows_name_their_actor(carl, dataset, support, tmp_path):
    version = make_version(carl, dataset)
    ingest(carl, version, write_jsonl(tmp_path / "rows.jsonl", lineage_rows(carl, support, "A ticket.")))
    for model_history in (dataset.history, version.history, version.manifest.history, version.ingestion_jobs.first().history):
        assert {row.history_user for row in model_history.all()} == {carl}


# -- PII masking ------------------------------------------------------------------

PII_TEXT = "Please delete the data of jane.doe@acme-mail.com, account CU-204817, card 4111 1111 1111 1111."


def test_masking_uses_the_pii_gates_detectors():
    masked = mask_text(PII_TEXT)
    assert "jane.doe@acme-mail.com" not in masked and "CU-204817" not in masked and "4111 1111" not in masked
    assert masked.startswith("Please delete the data of j***@***.com")


def test_a_viewer_reads_examples_masked_and_a_contributor_raw(client, carl, vic, support, dataset, tmp_path):
    version = make_version(carl, dataset)
    ingest(carl, version, write_jsonl(tmp_path / "rows.jsonl", lineage_rows(carl, support, PII_TEXT)))
    example_url = reverse("example-page", args=[dataset.slug, version.number, 1])
    list_url = reverse("examples-page", args=[dataset.slug, version.number])
    for url in (example_url, list_url):
        assert "jane.doe@acme-mail.com" not in admin_client(client, vic).get(url).content.decode()
        assert "jane.doe@acme-mail.com" in admin_client(client, carl).get(url).content.decode()
    viewer_rows = api_client_for(vic).get("/api/examples/", {"version": version.pk}).json()["results"]
    assert "CU-204817" not in json.dumps(viewer_rows)
    assert "CU-204817" in json.dumps(api_client_for(carl).get("/api/examples/", {"version": version.pk}).json())


# -- The sign-off's manifest hash ---------------------------------------------------

def test_a_signoffs_manifest_hash_cannot_be_rewritten(carl, lena, dataset, workflow_policy):
    version = make_version(carl, dataset)
    governance.submit_for_review(actor=carl, version=version)
    signoff = governance.sign_off(actor=lena, version=version, role=LEGAL, decision=Decision.APPROVE)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SignOff.objects.filter(pk=signoff.pk).update(manifest_hash="0" * 64)


def test_expiry_is_tested_by_moving_the_clock(carl, lena, gwen, dataset, support, workflow_policy, time_machine):
    version = make_version(carl, dataset, expires_at=timezone.localdate() + datetime.timedelta(days=3))
    governance.submit_for_review(actor=carl, version=version)
    governance.sign_off(actor=lena, version=version, role=LEGAL, decision=Decision.APPROVE)
    governance.sign_off(actor=gwen, version=version, role=GOVERNANCE, decision=Decision.APPROVE)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=5))
    assert governance.expire_due_versions() == 1
    decision = governance.authorize_use(actor=carl, tenant=support, version=version, use="training")
    assert not decision.allowed and "expired" in {r["code"] for r in decision.reasons}
    assert governance_selectors.expiry_passed(version.manifest)


def test_a_dataset_share_is_refused_to_viewers_and_outsiders(vic, rita, dataset):
    for actor in (vic, rita):
        with pytest.raises(PermissionDenied):
            services.share_dataset(actor=actor, dataset=dataset, user=rita)
    assert not Dataset.objects.visible_to(rita).exists()
    assert Tenant.objects.visible_to(rita).count() == 1


def test_a_waiver_shows_on_the_page_the_badge_and_the_exports(client, carl, gwen, dataset):
    from scorecard.selectors import badge_token

    version = make_version(carl, dataset)
    scorecard.grant_waiver(actor=gwen, version=version, letter="L", reason="monitors ship Monday",
                           expires_at=timezone.localdate() + datetime.timedelta(days=10))
    reader = admin_client(client, carl)
    args = [dataset.slug, version.number]
    page = reader.get(reverse("scorecard-page", args=args)).content.decode()
    assert 'data-status="waived"' in page and "monitors ship Monday" in page
    badge = client.get(reverse("scorecard-badge-page", args=args), {"token": badge_token(version)}).content.decode()
    assert "#6b46c1" in badge
    croissant = json.loads(reader.get(reverse("croissant-page", args=args)).content)
    assert "Letter L is waived" in croissant["rai:dataLimitations"]
    assert next(row for row in croissant["carefulScorecard"]["letters"] if row["letter"] == "L")["waiver"]
    assert "**Waiver** of L" in reader.get(reverse("datacard-page", args=args)).content.decode()
