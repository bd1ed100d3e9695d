"""The scorecard as a person uses it, in headless Chromium."""
import pytest

from .conftest import login
from .scorecard_helpers import CATALOG_EVIDENCE, build_evidence, set_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_user_opens_the_scorecard_and_expands_a_letter(browser_page, alice, tenant_a, tmp_path):
    set_policy(checks=CATALOG_EVIDENCE)
    version = build_evidence(alice, tenant_a, tmp_path, max_synthetic_ratio=0.9).version
    page = browser_page
    login(page, "alice")
    page.goto(f"/datasets/{version.dataset.slug}/v1/scorecard/?use=training")
    tiles = page.locator("#careful-tiles details.careful-tile")
    assert tiles.count() == 7
    assert [tiles.nth(i).get_attribute("data-letter") for i in range(7)] == list("CAREFUL")
    assert tiles.nth(1).get_attribute("data-status") == "fail"
    assert "blocked by letter A" in page.locator("#scorecard-verdict").inner_text()
    ratio_check = page.locator('li[data-code="A.ratio_cap_set"]')
    assert not ratio_check.is_visible()
    tiles.nth(1).locator("summary").click()
    assert ratio_check.is_visible() and "exceeds this cell's cap of 0.5" in ratio_check.inner_text()
    # Evidence commits recorded snapshots as the version was built; the newest is what we see.
    assert page.locator("#scorecard-history tbody tr").first.locator("td").nth(3).inner_text() == "A"
    page.select_option("#use-form select[name=use]", "demo")
    page.wait_for_url("**use=demo")
    assert page.locator('details[data-letter="A"]').get_attribute("data-status") == "na"
    page.goto("/")
    row = page.locator("#catalog tbody tr").filter(has=page.locator(f'a[href="/datasets/{version.dataset.slug}/"]'))
    assert row.locator(".careful-summary span").count() == 7
    assert row.locator(".careful-summary span.fail").inner_text() == "A"
