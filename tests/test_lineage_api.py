"""Upload as a background job, examples and lineage in the API and pages, and
the version diff as API, page and CLI."""
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from registry import services
from registry.careful_checks import lineage_complete, templates_versioned
from registry.models import IngestionJob
from scorecard.checks import Status

from .conftest import wait_until
from .lineage_helpers import build_lineage_world, ingest, synthetic_row, write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, tenant_a, tmp_path):
    return build_lineage_world(alice, tenant_a, tmp_path)


def upload(client, version, rows, name="rows.jsonl"):
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    file = SimpleUploadedFile(name, body, content_type="application/octet-stream")
    return client.post("/api/ingestion-jobs/", {"version": version.pk, "file": file})


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run the tasks a request enqueues on commit (eagerly, in this process)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_an_upload_returns_a_job_whose_status_and_progress_can_be_polled(world, api, settings, tmp_path, run_tasks):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = api(world.owner)
    with run_tasks():
        response = upload(client, world.version, [synthetic_row(i) for i in range(1500)], name="../../etc/passwd.jsonl")
    assert response.status_code == 202, response.content
    job = client.get(f"/api/ingestion-jobs/{response.json()['id']}/").json()
    assert job["status"] == "succeeded" and job["rows_processed"] == job["rows_total"] == job["rows_written"] == 1500
    stored = IngestionJob.objects.get(pk=job["id"])
    assert stored.file_name == "passwd.jsonl" and stored.path.parent == settings.MEDIA_ROOT / "ingestion"
    assert stored.history.count() >= 2


def test_a_refused_upload_reports_its_errors_through_the_job(world, api, settings, tmp_path, run_tasks):
    settings.MEDIA_ROOT = tmp_path / "media"
    with run_tasks():
        response = upload(api(world.owner), world.version, [synthetic_row(1), synthetic_row(2, origin="fake")])
    job = api(world.owner).get(f"/api/ingestion-jobs/{response.json()['id']}/").json()
    assert job["status"] == "failed" and job["error_count"] == 1
    assert job["errors"][0] == {"row": 2, "field": "origin", "message": "must be synthetic or real, not 'fake'"}


def test_uploads_over_the_size_limit_and_to_frozen_versions_are_refused(world, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = api(world.owner)
    with override_settings(MAX_UPLOAD_BYTES=100):
        response = upload(client, world.version, [synthetic_row(i) for i in range(10)])
    assert response.status_code in (400, 413) and "file" in response.json()
    assert upload(api(world.owner), world.anchor_version, [synthetic_row(1)]).status_code == 202
    type(world.version).objects.filter(pk=world.version.pk).update(state="approved")
    assert upload(client, world.version, [synthetic_row(1)]).status_code == 409


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_upload_in_the_background(alice, tenant_a, api, settings, tmp_path,
                                                          celery_worker_process):
    world = build_lineage_world(alice, tenant_a, tmp_path)
    client = api(alice)
    response = upload(client, world.version, [synthetic_row(i) for i in range(3000)])
    assert response.status_code == 202 and response.json()["status"] == "queued"
    url = f"/api/ingestion-jobs/{response.json()['id']}/"
    assert wait_until(lambda: client.get(url).json()["status"] == "succeeded", timeout=90)
    assert client.get(url).json()["rows_processed"] == 3000


def test_examples_filter_by_lineage_and_open_with_full_lineage(world, api, tmp_path):
    rows = [synthetic_row(1), synthetic_row(2, label="kyc", template_name=None, template_version=None,
                                            prompt_hash="cd" * 32)]
    ingest(world.owner, world.version, write_jsonl(tmp_path / "rows.jsonl", rows))
    client = api(world.owner)
    listed = client.get("/api/examples/", {"version": world.version.pk, "label": "kyc"}).json()
    assert [row["ordinal"] for row in listed["results"]] == [2]
    by_template = client.get("/api/examples/", {"version": world.version.pk, "template": world.template.pk}).json()
    assert by_template["count"] == 1
    detail = client.get(f"/api/examples/{by_template['results'][0]['id']}/").json()
    assert detail["generator"]["name"] == "sim-llm" and detail["prompt_template"]["body"] == "Write a {intent} ticket."
    assert detail["seed_example"]["text"] == "Real ticket 1: delete my data"
    summary = client.get(f"/api/versions/{world.version.pk}/lineage/").json()
    assert summary["total"] == 2 and summary["completeness"] == 1.0 and summary["prompt_hash_only"] == 1
    assert summary["by_generator"] == [["sim-llm@2026-09", 2]]


def test_lineage_checks_read_the_stored_aggregates(world, tmp_path, django_assert_max_num_queries):
    assert lineage_complete(world.version, "training", {}).status == Status.MISSING
    rows = [synthetic_row(1), synthetic_row(2, template_name=None, template_version=None, prompt_hash="cd" * 32,
                                            sampling_params=None)]
    ingest(world.owner, world.version, write_jsonl(tmp_path / "rows.jsonl", rows))
    with django_assert_max_num_queries(3):
        complete = lineage_complete(world.version, "training", {})
        versioned = templates_versioned(world.version, "training", {})
    assert complete.status == Status.FAIL and complete.value == 0.5
    assert versioned.status == Status.WARN and "1 synthetic rows carry only a prompt hash" in versioned.verdict


@pytest.fixture
def regenerated(world, tmp_path):
    """v1 and a regenerated v2: one row kept, one relabeled, one removed, two added."""
    v1_rows = [synthetic_row(1), synthetic_row(2), synthetic_row(3)]
    ingest(world.owner, world.version, write_jsonl(tmp_path / "v1.jsonl", v1_rows))
    v2 = services.create_version(actor=world.owner, dataset=world.version.dataset,
                                 manifest={"max_synthetic_ratio": 0.2})
    v2_rows = [synthetic_row(1), synthetic_row(2, label="chargeback_dispute"), synthetic_row(4), synthetic_row(5)]
    ingest(world.owner, v2, write_jsonl(tmp_path / "v2.jsonl", v2_rows))
    return world.version, v2


def test_the_diff_of_a_regeneration(regenerated, api, world):
    v1, v2 = regenerated
    diff = api(world.owner).get(f"/api/versions/{v2.pk}/diff/").json()
    assert {k: diff["examples"][k] for k in ("unchanged", "added", "removed", "relabeled")} == \
        {"unchanged": 2, "added": 2, "removed": 1, "relabeled": 1}
    assert diff["manifest_changes"] == [{"field": "max_synthetic_ratio", "old": 0.3, "new": 0.2}]
    labels = {row["key"]: row["delta"] for row in diff["labels"]}
    assert labels == {"gdpr_erasure": 0, "chargeback_dispute": 1}
    assert [row["ordinal"] for row in diff["examples"]["added_sample"]] == [3, 4]
    assert diff["generators"] == [{"key": "sim-llm@2026-09", "old": 3, "new": 4, "delta": 1}]


def test_the_diff_page_and_cli(regenerated, client, world):
    v1, v2 = regenerated
    client.force_login(world.owner)
    page = client.get(reverse("versiondiff-page", args=[v2.dataset.slug, v2.number]))
    assert page.status_code == 200 and "+2</strong> added" in page.content.decode()
    out = io.StringIO()
    call_command("diff_versions", v2.dataset.slug, "1", "2", stdout=out)
    assert "examples: +2 added, -1 removed, 2 unchanged (by content hash), 1 relabeled" in out.getvalue()
    assert "max_synthetic_ratio: 0.3 -> 0.2" in out.getvalue()


def test_lineage_pages_render(regenerated, client, world):
    v1, v2 = regenerated
    client.force_login(world.owner)
    slug = v2.dataset.slug
    lineage = client.get(reverse("lineage-page", args=[slug, 2])).content.decode()
    assert "100%" in lineage and "sim-llm@2026-09" in lineage
    examples = client.get(reverse("examples-page", args=[slug, 2]), {"label": "chargeback_dispute"}).content.decode()
    assert "1 matching example" in examples
    detail = client.get(reverse("example-page", args=[slug, 2, 1])).content.decode()
    assert "Write a {intent} ticket." in detail and "Real ticket 1" in detail
    job = v2.ingestion_jobs.get()
    assert client.get(reverse("ingestionjob-page", args=[job.pk])).status_code == 200
