"""The admin for governance and legal staff: review queue, review page buttons,
bulk actions with a reason, read-only logs, scope and surfaced refusals."""
import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from governance import services
from governance.models import SignOff, Transition
from registry.choices import Role, VersionState
from registry.models import DatasetVersion

from .factories import make_dataset, make_user, make_version
from .test_governance_workflow import fast_passwords, gwen, lena  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]

CHANGELIST = "/admin/registry/datasetversion/"
QUEUE = CHANGELIST + "review-queue/"


@pytest.fixture
def in_review(alice, dataset_a):
    older = make_version(alice, dataset_a)
    services.submit_for_review(actor=alice, version=older)
    newer = make_version(alice, make_dataset(alice, dataset_a.tenant, "second"))
    services.submit_for_review(actor=alice, version=newer)
    return older, newer


def queue_of(client, user):
    client.force_login(user)
    response = client.get(QUEUE)
    assert response.status_code == 200
    return [str(v) for v in response.context["queue"]]


def test_the_queue_lists_what_waits_for_my_role_oldest_first(client, in_review, lena, gwen, alice, charlie):
    older, newer = in_review
    assert queue_of(client, lena) == [str(older), str(newer)]
    services.sign_off(actor=lena, version=older, decision="approve")
    assert queue_of(client, lena) == [str(newer)]
    assert queue_of(client, gwen) == [str(older), str(newer)]
    assert queue_of(client, alice) == [], "the submitter holds no reviewer role and reviews nothing of their own"
    assert queue_of(client, charlie) == []


def test_the_review_page_shows_manifest_worksheet_and_scorecard_slot(client, in_review, lena):
    client.force_login(lena)
    page = client.get(CHANGELIST + f"{in_review[0].pk}/review/").content.decode()
    for part in ('id="purpose-worksheet"', "Per-class recall", 'id="scorecard"', in_review[0].manifest.content_hash,
                 'id="btn-approve"', 'id="btn-reject"', 'id="btn-request-changes"'):
        assert part in page


def test_buttons_call_the_services(client, in_review, lena, gwen):
    version = in_review[0]
    decide = CHANGELIST + f"{version.pk}/review/decide/"
    client.force_login(lena)
    assert client.post(decide, {"decision": "approve"}).status_code == 302
    client.force_login(gwen)
    client.post(decide, {"decision": "approve", "comment": "fine"})
    assert DatasetVersion.objects.get(pk=version.pk).state == VersionState.APPROVED
    assert list(Transition.objects.filter(version=version).values_list("action", flat=True)) == ["submit", "approve"]


def test_reject_without_comment_is_refused_with_a_message(client, in_review, gwen):
    version = in_review[0]
    client.force_login(gwen)
    response = client.post(CHANGELIST + f"{version.pk}/review/decide/", {"decision": "reject"}, follow=True)
    assert response.status_code == 200
    assert "Refused: A comment explaining the decision is required." in response.content.decode()
    assert DatasetVersion.objects.get(pk=version.pk).state == VersionState.IN_REVIEW
    client.post(CHANGELIST + f"{version.pk}/review/decide/", {"decision": "reject", "comment": "PII in seeds"})
    assert DatasetVersion.objects.get(pk=version.pk).state == VersionState.RETIRED


def test_request_changes_from_the_review_page(client, in_review, lena):
    client.force_login(lena)
    client.post(CHANGELIST + f"{in_review[0].pk}/review/decide/", {"decision": "request_changes", "comment": "x"})
    assert DatasetVersion.objects.get(pk=in_review[0].pk).state == VersionState.DRAFT


def test_the_submitter_cannot_decide_their_own_version(client, in_review, alice):
    client.force_login(alice)
    response = client.post(CHANGELIST + f"{in_review[0].pk}/review/decide/", {"decision": "approve"}, follow=True)
    assert "Refused:" in response.content.decode()
    assert not SignOff.objects.exists()


def test_staff_of_another_tenant_get_404_on_the_review_pages(client, in_review, charlie):
    client.force_login(charlie)
    assert client.get(CHANGELIST + f"{in_review[0].pk}/review/").status_code == 404
    assert client.post(CHANGELIST + f"{in_review[0].pk}/review/decide/", {"decision": "approve"}).status_code == 404


def test_contributors_without_governance_roles_cannot_open_the_queue(client, tenant_a, in_review):
    staff_contributor = make_user("carl", tenant=tenant_a, roles=[Role.CONTRIBUTOR], is_staff=True)
    client.force_login(staff_contributor)
    assert client.get(QUEUE).status_code == 403
    assert client.post(CHANGELIST + f"{in_review[0].pk}/review/decide/", {"decision": "approve"}).status_code == 403


def bulk(client, action, versions, **extra):
    return client.post(CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [v.pk for v in versions], **extra},
                       follow=True)


def test_bulk_retire_asks_for_a_reason_then_retires_each(client, alice, dataset_a):
    versions = [make_version(alice, dataset_a) for _ in range(2)]
    client.force_login(alice)
    form = bulk(client, "retire_selected", versions)
    assert 'name="reason"' in form.content.decode()
    assert not Transition.objects.exists()
    bulk(client, "retire_selected", versions, apply="1", reason="")
    assert not Transition.objects.exists(), "an empty reason is refused by the form"
    done = bulk(client, "retire_selected", versions, apply="1", reason="generator bug")
    assert "Retire: 2 version(s) done." in done.content.decode()
    assert set(DatasetVersion.objects.values_list("retired_reason", flat=True)) == {"generator bug"}


def test_bulk_suspend_reports_refusals_instead_of_failing(client, alice, dataset_a):
    draft = make_version(alice, dataset_a)
    client.force_login(alice)
    response = bulk(client, "suspend_selected", [draft], apply="1", reason="audit")
    assert response.status_code == 200
    assert "Refused:" in response.content.decode() and "it is draft" in response.content.decode()


def test_no_bulk_approve_and_no_delete(client, alice):
    client.force_login(alice)
    actions = dict(client.get(CHANGELIST).context["action_form"].fields["action"].choices)
    assert set(actions) - {""} == {"suspend_selected", "retire_selected"}


def test_signoffs_and_transitions_are_read_only_in_the_admin(client, in_review, lena, alice):
    signoff = services.sign_off(actor=lena, version=in_review[0], decision="approve")
    transition = Transition.objects.first()
    client.force_login(alice)
    for obj, name in ((signoff, "signoff"), (transition, "transition")):
        base = f"/admin/governance/{name}/"
        assert client.get(base).status_code == 200
        assert client.get(base + "add/").status_code == 403
        change = client.get(base + f"{obj.pk}/change/")
        assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
        assert client.post(base + f"{obj.pk}/change/", {"comment": "edited"}).status_code == 403
        assert client.post(base + f"{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SignOff.objects.filter(comment="").count() == 1 and Transition.objects.count() == 2


def test_filters_list_only_governed_tenants_and_expiry_soon(client, alice, dataset_a, charlie, tenant_b):
    soon = make_version(alice, dataset_a, expires_at=timezone.localdate() + datetime.timedelta(days=10))
    make_version(alice, dataset_a, expires_at=timezone.localdate() + datetime.timedelta(days=200))
    client.force_login(alice)
    page = client.get(CHANGELIST)
    assert "tenant-b" not in page.content.decode().lower().replace("tenant-a", "")
    filtered = client.get(CHANGELIST + "?expiring=30").context["cl"].result_list
    assert [v.pk for v in filtered] == [soon.pk]
    assert len(client.get(CHANGELIST + "?tenant=tenant-a&state=draft&manifest__use_cell=training")
               .context["cl"].result_list) == 2


def test_the_version_page_links_the_review_and_history_shows_each_transition(client, in_review, alice):
    client.force_login(alice)
    change = client.get(CHANGELIST + f"{in_review[0].pk}/change/").content.decode()
    assert f"{in_review[0].pk}/review/" in change and "submit" in change
    response = client.get(CHANGELIST + f"{in_review[0].pk}/history/")
    assert response.status_code == 200 and "submitted for review" in response.content.decode()
