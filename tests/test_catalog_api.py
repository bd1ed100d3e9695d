import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry.models import Dataset, DatasetVersion, Manifest
from registry.choices import VersionState

from .factories import make_dataset, make_version

pytestmark = pytest.mark.django_db


def row_counts():
    return (Dataset.objects.count(), DatasetVersion.objects.count(), Manifest.objects.count())


def test_contributor_creates_dataset_and_version_with_manifest(api, alice, tenant_a):
    client = api(alice)
    response = client.post(
        "/api/datasets/",
        {"slug": "tickets", "name": "Tickets", "tenant": "tenant-a", "kind": "synthetic", "modality": "text"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["owner"] == "alice"
    response = client.post(
        "/api/versions/",
        {"dataset": "tickets", "notes": "first", "manifest": {
            "purpose_gap": "gap", "use_cell": "training", "intended_uses": ["training"],
            "max_synthetic_ratio": 0.25, "expires_at": "2030-01-01", "tenant_scope": ["tenant-a"]}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == 1 and body["state"] == "draft"
    assert body["manifest"]["max_synthetic_ratio"] == 0.25
    assert len(body["manifest"]["content_hash"]) == 64
    detail = client.get("/api/datasets/tickets/").json()
    assert [v["number"] for v in detail["versions"]] == [1]
    assert detail["latest_state"] == "draft"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"slug": "x1", "name": "X", "tenant": "no-such-tenant", "kind": "synthetic"}, "tenant"),
        ({"slug": "x2", "name": "X", "tenant": "tenant-a", "kind": "imaginary"}, "kind"),
        ({"slug": "bad slug!", "name": "X", "tenant": "tenant-a", "kind": "synthetic"}, "slug"),
        ({"slug": "dataset-a", "name": "X", "tenant": "tenant-a", "kind": "synthetic"}, "slug"),
        ({"name": "X", "tenant": "tenant-a", "kind": "synthetic"}, "slug"),
    ],
)
def test_bad_dataset_input_names_the_field_and_writes_nothing(api, alice, dataset_a, payload, field):
    before = row_counts()
    response = api(alice).post("/api/datasets/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert row_counts() == before


@pytest.mark.parametrize(
    "manifest, field",
    [
        ({"max_synthetic_ratio": 1.5}, "max_synthetic_ratio"),
        ({"max_synthetic_ratio": -0.1}, "max_synthetic_ratio"),
        ({"max_synthetic_ratio": "NaN"}, "max_synthetic_ratio"),
        ({"expires_at": "2026-02-30"}, "expires_at"),
        ({"expires_at": "next tuesday"}, "expires_at"),
        ({"intended_uses": ["world-domination"]}, "intended_uses"),
        ({"intended_uses": "training"}, "intended_uses"),
        ({"tenant_scope": ["no-such-tenant"]}, "tenant_scope"),
        ({"use_cell": "nope"}, "use_cell"),
        ({"intended_uses": ["training"], "prohibited_uses": ["training"]}, "prohibited_uses"),
        ({"real_anchor": "dataset-a"}, "real_anchor"),
    ],
)
def test_malformed_manifest_is_refused_by_field_and_nothing_is_written(api, alice, dataset_a, manifest, field):
    before = row_counts()
    response = api(alice).post("/api/versions/", {"dataset": "dataset-a", "manifest": manifest}, format="json")
    assert response.status_code == 400, response.json()
    assert field in str(response.json())
    assert row_counts() == before


def test_manifest_is_editable_only_in_draft_and_rehashes(api, alice, version_a):
    client = api(alice)
    url = f"/api/versions/{version_a.pk}/manifest/"
    old_hash = client.get(url).json()["content_hash"]
    response = client.patch(url, {"max_synthetic_ratio": 0.1}, format="json")
    assert response.status_code == 200
    assert response.json()["content_hash"] != old_hash
    DatasetVersion.objects.filter(pk=version_a.pk).update(state=VersionState.APPROVED)
    response = client.patch(url, {"max_synthetic_ratio": 0.2}, format="json")
    assert response.status_code == 409
    assert "frozen" in response.json()["detail"]
    assert Manifest.objects.get(version=version_a).max_synthetic_ratio == 0.1


def test_manifest_hash_is_canonical_and_order_independent(alice, dataset_a, tenant_a, tenant_b):
    first = make_version(alice, dataset_a, intended_uses=["training", "demo"], tenant_scope=[tenant_a, tenant_b])
    second = make_version(alice, dataset_a, intended_uses=["demo", "training"], tenant_scope=[tenant_b, tenant_a])
    assert first.manifest.content_hash == second.manifest.content_hash
    assert first.manifest.compute_hash() == first.manifest.content_hash
    assert '"tenant_scope":["tenant-a","tenant-b"]' in first.manifest.canonical_json()


def test_new_version_copies_the_previous_manifest(alice, version_a):
    from registry import services

    second = services.create_version(actor=alice, dataset=version_a.dataset)
    assert second.number == 2
    assert second.manifest.content_hash == version_a.manifest.content_hash


def test_viewer_cannot_create_in_own_tenant(api, bob, tenant_a):
    response = api(bob).post(
        "/api/datasets/", {"slug": "v", "name": "V", "tenant": "tenant-a", "kind": "synthetic"}, format="json"
    )
    assert response.status_code == 403
    assert not Dataset.objects.filter(slug="v").exists()


def test_cannot_move_dataset_to_a_tenant_outside_scope(api, alice, dataset_a, tenant_b):
    response = api(alice).patch("/api/datasets/dataset-a/", {"tenant": "tenant-b"}, format="json")
    assert response.status_code == 400  # tenant-b is not even visible to alice
    assert "tenant" in response.json()
    assert Dataset.objects.get(slug="dataset-a").tenant.slug == "tenant-a"


def test_history_records_who_changed_the_manifest(api, alice, version_a):
    api(alice).patch(f"/api/versions/{version_a.pk}/manifest/", {"purpose_gap": "new gap"}, format="json")
    latest = Manifest.history.filter(version_id=version_a.pk).order_by("-history_date").first()
    assert latest.history_user == alice
    assert latest.purpose_gap == "new gap"


def test_share_gives_a_user_of_another_tenant_read_access(api, alice, charlie, dataset_a):
    assert api(charlie).get("/api/datasets/dataset-a/").status_code == 404
    assert api(alice).post("/api/datasets/dataset-a/share/", {"username": "charlie"}, format="json").status_code == 204
    assert api(charlie).get("/api/datasets/dataset-a/").status_code == 200
    # Read access only: charlie still may not change it.
    assert api(charlie).patch("/api/datasets/dataset-a/", {"name": "mine"}, format="json").status_code == 403


def test_token_authentication(alice, dataset_a):
    token = Token.objects.create(user=alice)
    client = APIClient()
    assert client.get("/api/datasets/").status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/datasets/").json()["count"] == 1


def test_session_api_writes_require_csrf(client, alice):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    response = csrf_client.post(
        "/api/datasets/", {"slug": "c", "name": "C", "tenant": "tenant-a", "kind": "synthetic"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_filters(api, alice, tenant_a):
    soon = make_dataset(alice, tenant_a, "soon")
    make_version(alice, soon, expires_at=timezone.localdate() + datetime.timedelta(days=5), intended_uses=["demo"],
                 prohibited_uses=[])
    later = make_dataset(alice, tenant_a, "later", kind="real_anchor")
    make_version(alice, later, expires_at=timezone.localdate() + datetime.timedelta(days=200))
    client = api(alice)

    def slugs(query):
        return [d["slug"] for d in client.get(f"/api/datasets/?{query}").json()["results"]]

    assert slugs("expiring_within=30") == ["soon"]
    assert slugs("kind=real_anchor") == ["later"]
    assert slugs("intended_use=demo") == ["soon"]
    assert slugs("intended_use=training") == ["later"]
    assert slugs("q=soo") == ["soon"]
    assert slugs("state=draft") == ["later", "soon"]
    assert slugs("tenant=tenant-a&limit=1") == ["later"]
    assert client.get("/api/datasets/?expiring_within=abc").status_code == 400


@pytest.mark.parametrize("n", [10, 500])
def test_catalog_list_and_detail_use_constant_queries(api, alice, tenant_a, n, django_assert_max_num_queries):
    from registry.models import Dataset as D

    D.objects.bulk_create(
        [D(slug=f"bulk-{i}", name=f"Bulk {i}", tenant=tenant_a, owner=alice, kind="synthetic") for i in range(n)]
    )
    for dataset in D.objects.filter(slug__in=["bulk-1", "bulk-2"]):
        make_version(alice, dataset)
        make_version(alice, dataset)
    client = api(alice)
    with django_assert_max_num_queries(6):
        assert client.get("/api/datasets/?limit=500").status_code == 200
    with django_assert_max_num_queries(8):
        assert len(client.get("/api/datasets/bulk-1/").json()["versions"]) == 2


def test_openapi_schema_and_swagger(api, alice):
    client = api(alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/datasets/" in schema.json()["paths"]
    assert client.get("/api/docs/").status_code == 200


def test_catalog_is_one_sql_query(alice, dataset_a):
    from registry import selectors

    with CaptureQueriesContext(connection) as queries:
        list(selectors.catalog(alice))
    assert len(queries) == 1
