"""Gates API: the cascade per dataset, starting runs (202), run detail, the
reject set (paginated, by gate, CSV), the version's accepted pool, fidelity."""
import csv
import io

import pytest
from django.urls import reverse

from gates import services
from gates.models import GateRun
from governance.models import ExportRecord
from registry.models import DatasetVersion

from .gates_helpers import anchor_dataset, gate_doubles, gated_version  # noqa: F401

pytestmark = pytest.mark.django_db

STEPS = [{"gate": "t_word", "params": {}}, {"gate": "t_sample", "params": {"share": 0.25}}]


@pytest.fixture
def version(alice, tenant_a, gate_doubles):
    return gated_version(alice, tenant_a)


def cascade_url(version):
    return reverse("gatecascade-detail", args=[version.dataset.slug])


def start(client, version, **body):
    return client.post(reverse("gaterun-list"), {"version": version.pk, **body}, format="json")


def test_the_cascade_shows_the_cells_default_until_configured(api, alice, version):
    body = api(alice).get(cascade_url(version)).json()
    assert body["configured"] is False and body["use_cell"] == "training" and body["revision"] is None
    assert [s["gate"] for s in body["steps"]] == [s["gate"] for s in services.default_steps("training")]
    assert body["steps"][0]["params"]["max_chars"] == 20_000, "defaults are filled in"
    response = api(alice).put(cascade_url(version), {"steps": STEPS}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["configured"] is True and body["revision"] == 1 and body["steps"] == STEPS
    assert body["updated_by"] == "alice"


@pytest.mark.parametrize("steps, field_message", [
    ([{"gate": "t_word"}, {"gate": "nope"}], "step 2: unknown gate 'nope'"),
    ([{"gate": "t_word"}, {"gate": "t_sample", "params": {"share": -1}}],
     "step 2 (t_sample): share must be between 0.0 and 1.0, got -1"),
    ([], "A cascade needs at least one gate."),
])
def test_a_bad_cascade_is_a_400_naming_the_step_and_parameter(api, alice, version, steps, field_message):
    response = api(alice).put(cascade_url(version), {"steps": steps}, format="json")
    assert response.status_code == 400
    assert any(message.startswith(field_message) for message in response.json()["steps"]), response.json()
    assert not hasattr(DatasetVersion.objects.get(pk=version.pk).dataset, "gate_cascade")


def test_a_malformed_step_is_a_400_naming_its_index(api, alice, version):
    response = api(alice).put(cascade_url(version), {"steps": [{"params": {}}]}, format="json")
    assert response.status_code == 400 and response.json() == {"steps": {"0": {"gate": ["This field is required."]}}}


def test_viewers_read_and_outsiders_see_nothing(api, bob, charlie, version):
    assert api(bob).get(cascade_url(version)).status_code == 200
    assert api(bob).put(cascade_url(version), {"steps": STEPS}, format="json").status_code == 403
    assert api(charlie).get(cascade_url(version)).status_code == 404
    assert api(charlie).put(cascade_url(version), {"steps": STEPS}, format="json").status_code == 404
    assert start(api(bob), version).status_code == 403
    response = start(api(charlie), version)
    assert response.status_code == 400 and "No such object in your scope" in response.json()["version"][0]
    assert not GateRun.objects.exists()


def test_a_run_is_queued_with_202_and_read_back(api, alice, version, django_capture_on_commit_callbacks):
    api(alice).put(cascade_url(version), {"steps": STEPS}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = start(api(alice), version, seed=11)
    assert response.status_code == 202
    run_id = response.json()["id"]
    assert response["Location"].endswith(reverse("gaterun-detail", args=[run_id]))
    body = api(alice).get(response["Location"]).json()
    assert body["status"] == "succeeded" and body["progress"] == 100 and body["seed"] == 11
    assert body["version"] == {"id": version.pk, "dataset": version.dataset.slug, "number": 1, "state": "draft"}
    steps = [(r["position"], r["gate"], r["count_in"]) for r in body["results"]]
    assert steps == [(1, "t_word", 22), (2, "t_sample", 20)]
    assert body["results"][0]["rejected"] == 2 and body["steps"][0]["params"] == {"word": "spam"}
    assert set(body["software"]) == {"python", "numpy", "scikit-learn", "registry"}
    assert body["links"]["page"].endswith(reverse("gaterun-page", args=[run_id]))
    summary = api(alice).get(reverse("versiongates-detail", args=[version.pk])).json()
    assert summary["examples"] == 22 and summary["accepted_run"] == run_id
    assert summary["accepted"] == body["accepted_count"] and summary["latest_run"]["id"] == run_id
    assert [stage["count"] for stage in summary["funnel"]] == [22, 20, body["accepted_count"]]


def test_start_refusals(api, alice, tenant_a, version):
    api(alice).put(cascade_url(version), {"steps": [{"gate": "t_anchor"}]}, format="json")
    response = start(api(alice), version)
    assert response.status_code == 400 and "step 1 (t_anchor)" in response.json()["real_anchor"][0]
    response = start(api(alice), version, seed=-1)
    assert response.status_code == 400 and "seed" in response.json()
    api(alice).put(cascade_url(version), {"steps": STEPS}, format="json")
    assert start(api(alice), version).status_code == 202
    response = start(api(alice), version)
    assert response.status_code == 409 and response.json()["code"] == "run_active"
    DatasetVersion.objects.filter(pk=version.pk).update(state="approved")
    GateRun.objects.update(status="failed")
    response = start(api(alice), version)
    assert response.status_code == 409 and response.json()["code"] == "not_gateable"


@pytest.fixture
def finished_run(alice, version):
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=STEPS)
    run = services.start_gate_run(actor=alice, version=version, enqueue=False)
    return services.execute_gate_run(run_id=run.pk)


def test_the_reject_set_pages_and_filters_by_gate(api, alice, finished_run):
    url = reverse("gaterun-rejections", args=[finished_run.pk])
    everything = api(alice).get(url, {"limit": 3}).json()
    assert everything["count"] == finished_run.rejections.count() and len(everything["results"]) == 3
    word = api(alice).get(url, {"gate": "t_word"}).json()
    assert word["count"] == 2
    first = word["results"][0]
    assert first["gate"] == "t_word" and first["position"] == 1 and first["reason"] == "contains 'spam'"
    assert first["details"] == {"word": "spam"} and "spam" in first["text"] and first["label"] == "billing"
    assert api(alice).get(url, {"position": 2}).json()["count"] == everything["count"] - 2


def test_the_reject_set_downloads_as_csv(api, alice, charlie, finished_run):
    url = reverse("gaterun-rejections-csv", args=[finished_run.pk])
    response = api(alice).get(url, {"gate": "t_word"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert f'gate-run-{finished_run.pk}-rejections.csv' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2 and {row["gate"] for row in rows} == {"t_word"}
    assert rows[0]["reason"] == "contains 'spam'" and rows[0]["details"] == '{"word": "spam"}'
    assert "spam" in rows[0]["content"] and rows[0]["example_id"].isdigit()
    assert api(charlie).get(url).status_code == 404
    # The download is in the audit trail; the outsider's refused attempt is not.
    exports = ExportRecord.objects.filter(kind="gates.rejections")
    assert [(e.actor, e.object_label) for e in exports] == [(alice, str(finished_run))]


def test_the_fidelity_report_is_served_as_json(api, alice, tenant_a):
    version = gated_version(alice, tenant_a, "anchored", anchor=anchor_dataset(alice, tenant_a))
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=[{"gate": "format"}])
    run = services.execute_gate_run(run_id=services.start_gate_run(actor=alice, version=version, enqueue=False).pk)
    listed = api(alice).get(reverse("fidelityreport-list"), {"version": version.pk}).json()
    assert listed["count"] == 1
    report = listed["results"][0]
    assert report["run"] == run.pk and report["anchor_version"]["dataset"] == "gate-anchor" and report["results"]
    assert api(alice).get(reverse("gaterun-detail", args=[run.pk])).json()["fidelity_report"] == report["id"]


def test_the_openapi_schema_documents_the_gates(api, alice):
    schema = api(alice).get("/api/schema/?format=json").json()
    for path in ("/api/gates/cascades/{slug}/", "/api/gates/runs/", "/api/gates/runs/{id}/rejections/",
                 "/api/gates/runs/{id}/rejections/csv/", "/api/gates/versions/{id}/", "/api/gates/fidelity-reports/"):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/gates/cascades/{slug}/"]) >= {"get", "put"}
    assert "GateRun" in schema["components"]["schemas"]
