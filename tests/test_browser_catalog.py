"""The catalog as a person uses it, in headless Chromium."""
import pytest

from .conftest import login
from .factories import make_dataset, make_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_user_logs_in_filters_the_catalog_and_opens_a_dataset(browser_page, alice, charlie, tenant_a, tenant_b):
    make_version(alice, make_dataset(alice, tenant_a, "support-tickets", name="Support tickets"))
    make_dataset(alice, tenant_a, "anchor-tickets", name="Anchor tickets", kind="real_anchor")
    make_dataset(charlie, tenant_b, "other-tenant-data", name="Other tenant data")
    page = browser_page
    login(page, "alice")
    rows = page.locator("#catalog tbody tr")
    assert rows.count() == 2
    assert "Other tenant data" not in page.content()
    page.select_option("select[name=kind]", "real_anchor")
    page.click("#catalog-filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#catalog tbody tr").count() == 1
    assert "Anchor tickets" in page.locator("#catalog").inner_text()
    page.goto("/")
    page.click("text=Support tickets")
    assert page.locator("h1").inner_text() == "Support tickets"
    assert page.locator("#versions tbody tr").count() == 1
    assert "Per-class recall" in page.locator(".manifest").inner_text()


def test_other_tenant_dataset_page_is_not_found_in_the_browser(browser_page, alice, charlie, tenant_b):
    make_dataset(charlie, tenant_b, "other-tenant-data", name="Other tenant data")
    login(browser_page, "alice")
    response = browser_page.goto("/datasets/other-tenant-data/")
    assert response.status == 404
