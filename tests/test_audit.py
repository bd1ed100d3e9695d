"""The audit trail: every governed action appears with actor, time, tenant and
object in one read path (governance.audit), as CSV and through the API,
scoped to the tenants a reviewer governs; the logs are append-only."""
import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from governance import audit, services
from governance.models import Decision, ExportRecord, SignOff, SignOffRequirement, Transition, UseDecision
from registry.choices import Role, Use
from scorecard.models import ScorecardPolicy

from .factories import make_dataset, make_user, make_version
from .test_governance_workflow import fast_passwords  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


@pytest.fixture
def gwen(tenant_a):
    return make_user("gwen", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER], is_staff=True)


@pytest.fixture
def lena(tenant_a):
    return make_user("lena", tenant=tenant_a, roles=[Role.LEGAL_REVIEWER], is_staff=True)


@pytest.fixture
def history(alice, gwen, lena, tenant_a, dataset_a, version_a, client):
    """One of each governed action in tenant A."""
    services.submit_for_review(actor=alice, version=version_a)
    services.sign_off(actor=lena, version=version_a, role=Role.LEGAL_REVIEWER, decision=Decision.APPROVE)
    services.sign_off(actor=gwen, version=version_a, role=Role.GOVERNANCE_REVIEWER, decision=Decision.APPROVE)
    services.authorize_use(actor=alice, tenant=tenant_a, version=version_a, use=Use.TRAINING)
    services.suspend(actor=gwen, version=version_a, reason="drift alert")
    services.retire_version(actor=gwen, version=version_a, reason="superseded")
    requirement = SignOffRequirement.objects.create(use_cell=Use.EVALUATION, role=Role.TENANT_ADMIN)
    requirement.delete()
    policy = ScorecardPolicy.objects.first()
    policy.notes = "tightened after review"
    policy.save()
    client.force_login(gwen)
    number = version_a.number
    assert client.get(reverse("datacard-page", args=[dataset_a.slug, number])).status_code == 200
    return version_a


def test_every_kind_of_governed_action_is_in_the_trail(history, gwen):
    rows = list(audit.audit_rows(gwen))
    actions = {row.action for row in rows}
    assert {"transition.submit", "signoff.approve", "transition.approve", "authorization.allowed",
            "transition.suspend", "transition.retire", "policy.signoff_requirement.created",
            "policy.signoff_requirement.deleted", "policy.scorecard.changed",
            "export.scorecard.datacard"} <= actions
    for row in rows:
        assert row.time and row.actor and row.action
        if not row.action.startswith("policy."):
            assert row.tenant == "tenant-a" and row.object
    assert [row.time for row in rows] == sorted((row.time for row in rows), reverse=True)
    retire = next(row for row in rows if row.action == "transition.retire")
    assert retire.actor == "gwen" and "superseded" in retire.detail and str(history) == retire.object


def test_csv_export_is_scoped_quoted_and_itself_recorded(history, client, gwen, charlie):
    client.force_login(gwen)
    response = client.get("/audit.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(table[0]) == audit.COLUMNS
    assert {"transition.suspend", "signoff.approve", "export.scorecard.datacard"} <= {row["action"] for row in table}
    assert ExportRecord.objects.filter(kind="audit.csv", actor=gwen, tenant__slug="tenant-a").count() == 1

    # Tenant B's governor sees only registry-wide policy edits, and exports nothing of A.
    client.force_login(charlie)
    other = list(csv.DictReader(io.StringIO(b"".join(client.get("/audit.csv").streaming_content).decode())))
    assert other and all(row["tenant"] == "" for row in other)
    assert not ExportRecord.objects.filter(actor=charlie).exists()


def test_csv_cells_a_spreadsheet_would_run_are_quoted(history):
    row = audit.AuditRow(history.created_at, "mallory", "tenant-a", "transition.retire", '=HYPERLINK("http://x")',
                         "@SUM(A1)")
    lines = list(audit.csv_lines([row]))
    assert lines[1].startswith(history.created_at.isoformat())
    assert "'=HYPERLINK" in lines[1] and "'@SUM(A1)" in lines[1]


def test_only_governors_read_the_trail(history, client, api, bob, gwen):
    client.force_login(bob)
    assert client.get("/audit.csv").status_code == 403
    assert api(bob).get("/api/audit/").status_code == 403
    response = api(gwen).get("/api/audit/?limit=5")
    assert response.status_code == 200 and response.data["count"] > 5 and len(response.data["results"]) == 5
    assert set(response.data["results"][0]) == set(audit.COLUMNS)


def test_a_second_tenants_actions_stay_in_their_tenant(history, charlie, tenant_b, gwen):
    other = make_version(charlie, make_dataset(charlie, tenant_b, "b-data"))
    services.authorize_use(actor=charlie, tenant=tenant_b, version=other, use=Use.TRAINING)
    assert {row.tenant for row in audit.audit_rows(gwen)} <= {"tenant-a", ""}
    assert "tenant-a" not in {row.tenant for row in audit.audit_rows(charlie)}


@pytest.mark.parametrize("model", [Transition, SignOff, UseDecision])
def test_logs_refuse_rewrites_in_the_database(history, model):
    with pytest.raises(DatabaseError), transaction.atomic():
        field = {Transition: "reason", SignOff: "comment", UseDecision: "use"}[model]
        model.objects.update(**{field: "rewritten"})
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.all().delete()
    assert not model.objects.filter(**{field: "rewritten"}).exists()


def test_logs_are_read_only_in_the_admin(history, client, admin_user):
    client.force_login(admin_user)
    for model in (Transition, SignOff, UseDecision, ExportRecord):
        row = model.objects.first()
        opts = model._meta
        page = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
        assert page.status_code in (200, 302) and b'name="_save"' not in page.content, opts.label
        delete = client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[row.pk]), {"post": "yes"})
        assert delete.status_code in (302, 403) and model.objects.filter(pk=row.pk).exists(), opts.label
