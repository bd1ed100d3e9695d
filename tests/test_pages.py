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
