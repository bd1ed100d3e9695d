"""The human review queue in the admin, in headless Chromium: a governance
reviewer opens the open disagreements, reads both judges' scores, relabels an
example, and the decision is recorded with its history."""
import pytest

from judges.models import ReviewItem
from registry.choices import Role

from .conftest import login
from .factories import make_user
from .test_governance_workflow import fast_passwords  # noqa: F401 (autouse)
from .test_judges_upload import generator, judged_version, upload  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_records_a_decision_in_the_admin(browser_page, tenant_a, alice, generator):
    make_user("gwen", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER], is_staff=True)
    version = judged_version(alice, tenant_a, generator, n=3)
    upload(alice, version, {1: (0.9, 0.1), 2: (0.95, 0.05), 3: (0.8, 0.8)})
    page = browser_page
    login(page, "gwen")
    page.goto("/admin/judges/reviewitem/?open=yes&reason=disagreement")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert "classifier 0.05 · rubric-llm 0.95" in rows.first.inner_text()  # the widest spread first
    rows.first.locator("th a, td a").first.click()
    page.wait_for_load_state()
    assert page.locator("#example-label").inner_text() == "billing"
    assert page.locator("#judge-scores tbody tr").count() == 2
    page.check("input[name=decision][value=relabel]")
    page.fill("#id_corrected_label", "refund")
    page.fill("#id_comment", "Asks for the money back.")
    page.click("#btn-decide")
    page.wait_for_load_state()
    assert "Decision recorded" in page.locator("ul.messagelist").inner_text()
    # On to the next open item of the version.
    assert page.locator("#example-text").inner_text().startswith("ticket 0")
    item = ReviewItem.objects.get(example__ordinal=2, reason="disagreement")
    assert (item.decision, item.corrected_label, item.reviewer.username) == ("relabel", "refund", "gwen")
    page.goto(f"/admin/judges/reviewitem/{item.pk}/change/")
    assert "Relabel" in page.locator("#current-decision").inner_text()
    assert page.locator("#item-history tbody tr").count() == 2
