import pytest

from .factories import make_dataset, make_version

pytestmark = pytest.mark.django_db


def test_catalog_page_lists_visible_datasets_with_filters(client, alice, charlie, version_a, tenant_b):
    make_version(charlie, make_dataset(charlie, tenant_b, "charlies-secret"))
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "dataset-a" in page and "charlies-secret" not in page
    assert "dataset-a" not in client.get("/?kind=real_anchor").content.decode()
    assert "dataset-a" in client.get("/?state=draft&q=dataset").content.decode()


def test_dataset_and_version_pages_show_manifest(client, alice, version_a):
    client.force_login(alice)
    page = client.get("/datasets/dataset-a/").content.decode()
    assert "v1" in page and version_a.manifest.content_hash in page
    page = client.get("/datasets/dataset-a/v1/").content.decode()
    assert "Per-class recall on real held-aside tickets." in page


def test_pages_require_login(client, version_a):
    for url in ("/", "/datasets/dataset-a/", "/datasets/dataset-a/v1/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_version_page_shows_its_careful_letters_and_links_every_evidence_page(client, alice, version_a):
    client.force_login(alice)
    page = client.get("/datasets/dataset-a/v1/").content.decode()
    letters = page.split('id="version-scorecard"')[1].split("</p>")[0]
    # A fresh draft has no sign-offs: its letters are computed, and C cannot pass.
    assert all(f">{letter}</span>" in letters for letter in "CAREFUL")
    assert 'title="C: ' in letters and 'class="pass" title="C' not in letters
    for url in ("/datasets/dataset-a/v1/scorecard/", "/datasets/dataset-a/v1/lineage/", "/datasets/dataset-a/monitoring/"):
        assert f'href="{url}' in page
        assert client.get(url).status_code == 200
