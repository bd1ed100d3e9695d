"""Approval end to end in the admin, in headless Chromium: a legal reviewer and a
governance reviewer approve a version; a contributor cannot."""
import pytest

from governance import services
from registry.choices import Role, VersionState
from registry.models import DatasetVersion

from .conftest import login
from .factories import make_user
from .test_governance_workflow import fast_passwords  # noqa: F401 (autouse)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("workflow_policy")]


def review_and_approve(page, version, comment):
    page.goto("/admin/registry/datasetversion/review-queue/")
    page.locator("#review-queue tr", has_text=str(version)).get_by_role("link", name="Review").click()
    page.wait_for_load_state()
    assert "Per-class recall" in page.locator("#purpose-worksheet").inner_text()
    page.fill("#id_comment", comment)
    page.click("#btn-approve")
    page.wait_for_load_state()
    return page.locator("ul.messagelist").inner_text()


def test_legal_and_governance_reviewers_approve_in_the_admin(browser_page, tenant_a, alice, version_a):
    make_user("lena", tenant=tenant_a, roles=[Role.LEGAL_REVIEWER], is_staff=True)
    make_user("gwen", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER], is_staff=True)
    services.submit_for_review(actor=alice, version=version_a)
    page = browser_page

    login(page, "lena")
    message = review_and_approve(page, version_a, "Seeds are ours to use.")
    assert "Approve recorded as Legal reviewer" in message and "in review" in message
    assert page.locator("#review-queue-empty").is_visible()

    page.context.clear_cookies()
    login(page, "gwen")
    message = review_and_approve(page, version_a, "Anchored and ratio-capped.")
    assert "now approved" in message
    assert DatasetVersion.objects.get(pk=version_a.pk).state == VersionState.APPROVED
    page.goto(f"/admin/registry/datasetversion/{version_a.pk}/review/")
    assert page.locator("#version-state").inner_text() == "Approved"
    assert page.locator("#transitions tbody tr").count() == 2


def test_a_contributor_cannot_approve(browser_page, tenant_a, alice, version_a):
    make_user("carl", tenant=tenant_a, roles=[Role.CONTRIBUTOR], is_staff=True)
    services.submit_for_review(actor=alice, version=version_a)
    page = browser_page
    login(page, "carl")
    response = page.goto(f"/admin/registry/datasetversion/{version_a.pk}/review/")
    assert response.status == 403
    assert page.locator("#btn-approve").count() == 0
    response = page.goto("/admin/registry/datasetversion/review-queue/")
    assert response.status == 403
    assert DatasetVersion.objects.get(pk=version_a.pk).state == VersionState.IN_REVIEW
