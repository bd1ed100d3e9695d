"""The training API and pages as alice (tenant A) uses them: designate, scan,
check provenance, build mixes through the queue, read what came out."""
import pytest

from training.models import JobStatus, MixBuild, TrainingMix

from .test_training_isolation import EVAL_TEXTS
from .test_training_mix import eval_version, generator, pools, real_version, synthetic_version, texts  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


@pytest.fixture
def client_a(api, alice):
    return api(alice)


def create_family(client_a):
    response = client_a.post("/api/training/families/", {"tenant": "tenant-a", "name": "intent-clf"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_designate_scan_and_check_through_the_api(client_a, alice, tenant_a, generator,
                                                  django_capture_on_commit_callbacks):
    family_id = create_family(client_a)
    holdout = eval_version(alice, tenant_a, "holdout", EVAL_TEXTS)
    response = client_a.post("/api/training/evaluation-sets/", {"family": family_id, "version": holdout.pk},
                             format="json")
    assert response.status_code == 201 and response.json()["rows_flagged"] == 4
    eval_set_id = response.json()["id"]
    leaky = synthetic_version(alice, tenant_a, "syn", [(EVAL_TEXTS[0][0], "gdpr_erasure")], generator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/api/training/scans/", {"evaluation_set": eval_set_id, "candidates": [leaky.pk]},
                                 format="json")
    assert response.status_code == 202 and response.json()["status"] == JobStatus.QUEUED
    scan_id = response.json()["id"]
    scan = client_a.get(f"/api/training/scans/{scan_id}/").json()
    assert scan["status"] == JobStatus.SUCCEEDED and scan["exact_pairs"] == 1 and not scan["is_clean"]
    pairs = client_a.get(f"/api/training/scans/{scan_id}/pairs/").json()["results"]
    assert pairs[0]["kind"] == "exact" and pairs[0]["training_text"] == EVAL_TEXTS[0][0]
    response = client_a.post("/api/training/provenance-checks/",
                             {"evaluation_set": eval_set_id, "candidates": [leaky.pk]}, format="json")
    assert response.status_code == 201 and response.json()["passed"]


def test_a_viewer_may_read_but_not_designate_or_build(client_a, api, bob, alice, tenant_a, pools):
    family_id = create_family(client_a)
    holdout = eval_version(alice, tenant_a, "holdout", EVAL_TEXTS)
    viewer = api(bob)
    assert viewer.get(f"/api/training/families/{family_id}/").status_code == 200
    response = viewer.post("/api/training/evaluation-sets/", {"family": family_id, "version": holdout.pk},
                           format="json")
    assert response.status_code == 403
    response = viewer.post("/api/training/mix-builds/", {"tenant": "tenant-a", "family": family_id, "name": "m",
                                                         "components": [pools[0].pk]}, format="json")
    assert response.status_code == 403 and not MixBuild.objects.exists()


def test_bad_references_name_the_field(client_a, alice, tenant_a, charlie, tenant_b, generator):
    family_id = create_family(client_a)
    theirs = real_version(charlie, tenant_b, "theirs", texts("t", 2, "x"))
    response = client_a.post("/api/training/evaluation-sets/", {"family": family_id, "version": theirs.pk},
                             format="json")
    assert response.status_code == 400 and "version" in response.json()
    synthetic = synthetic_version(alice, tenant_a, "syn", [("s", "x")], generator)
    response = client_a.post("/api/training/evaluation-sets/", {"family": family_id, "version": synthetic.pk},
                             format="json")
    assert response.status_code == 400 and "not a real holdout" in response.json()["version"][0]
    response = client_a.post("/api/training/families/", {"tenant": "tenant-a", "name": "intent-clf"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_mix_builds_run_on_the_queue_and_refusals_leave_no_mix(client_a, alice, tenant_a, pools,
                                                               django_capture_on_commit_callbacks):
    family_id = create_family(client_a)
    real, synthetic = pools
    body = {"tenant": "tenant-a", "family": family_id, "name": "mix-ok", "components": [real.pk, synthetic.pk],
            "seed": 5}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/api/training/mix-builds/", body, format="json")
    assert response.status_code == 202
    build = client_a.get(f"/api/training/mix-builds/{response.json()['id']}/").json()
    assert build["status"] == "succeeded" and build["mix"]
    mix = client_a.get(f"/api/training/mixes/{build['mix']}/").json()
    assert mix["synthetic_count"] == 42 and mix["content_hash"] and len(mix["components"]) == 2
    manifest = client_a.get(f"/api/training/mixes/{build['mix']}/manifest/").json()
    assert manifest["content_hash"] == mix["content_hash"] and manifest["manifest"]["seed"] == 5

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/api/training/mix-builds/", {**body, "name": "mix-bad", "components": [synthetic.pk]},
                                 format="json")
    failed = MixBuild.objects.get(pk=response.json()["id"])
    assert failed.status == JobStatus.FAILED and "cannot be met" in failed.error["components"][0]
    assert list(TrainingMix.objects.values_list("name", flat=True)) == ["mix-ok"]


def test_pages_show_the_mix_pictures_and_the_scan_pairs(client, alice, tenant_a, pools, generator):
    from training import services

    family = services.create_model_family(actor=alice, tenant=tenant_a, name="intent-clf")
    mix = services.build_training_mix(actor=alice, tenant=tenant_a, family=family, name="mix-p",
                                      components=list(pools))
    holdout = eval_version(alice, tenant_a, "holdout", EVAL_TEXTS)
    eval_set = services.designate_evaluation_set(actor=alice, family=family, version=holdout)
    leaky = synthetic_version(alice, tenant_a, "syn-leak", [(EVAL_TEXTS[2][0], "regulator")], generator)
    scan = services.request_leakage_scan(actor=alice, evaluation_set=eval_set, candidates=[leaky], enqueue=False)
    services.run_leakage_scan(scan_id=scan.pk)
    client.force_login(alice)
    page = client.get(f"/training/mixes/{mix.pk}/").content.decode()
    assert page.count("<svg") == 2 and "cap 30%" in page and mix.content_hash in page and "regulator" in page
    page = client.get(f"/training/scans/{scan.pk}/").content.decode()
    assert "Exact (same content hash)" in page and "financial regulator" in page
    for url in ("/training/", f"/training/families/{family.pk}/"):
        assert "mix-p" in client.get(url).content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_scan_and_the_build(celery_worker_process, client_a, alice, tenant_a, pools):
    from .conftest import wait_until

    family_id = create_family(client_a)
    holdout = eval_version(alice, tenant_a, "holdout", EVAL_TEXTS)
    eval_set = client_a.post("/api/training/evaluation-sets/", {"family": family_id, "version": holdout.pk},
                             format="json").json()
    scan = client_a.post("/api/training/scans/", {"evaluation_set": eval_set["id"], "candidates": [pools[1].pk]},
                         format="json").json()
    build = client_a.post("/api/training/mix-builds/", {
        "tenant": "tenant-a", "family": family_id, "name": "worker-mix", "components": [p.pk for p in pools],
    }, format="json").json()
    assert wait_until(lambda: client_a.get(f"/api/training/scans/{scan['id']}/").json()["status"] == "succeeded")
    assert wait_until(lambda: client_a.get(f"/api/training/mix-builds/{build['id']}/").json()["status"] == "succeeded")
    assert TrainingMix.objects.get(name="worker-mix").synthetic_count == 42
