"""Gate pages (version gates page, run page with the reject set), the admin
(cascade with ordered inline steps, read-only runs) and one browser walk."""
import re

import pytest
from django.urls import reverse

from gates import services
from gates.models import GateCascade, GateRun

from .conftest import login
from .gates_helpers import anchor_dataset, gate_doubles, gated_version, run_now  # noqa: F401

pytestmark = pytest.mark.django_db

STEPS = [{"gate": "t_word", "params": {}}, {"gate": "t_sample", "params": {"share": 0.25}}]


@pytest.fixture
def version(alice, tenant_a, gate_doubles):
    version = gated_version(alice, tenant_a)
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=STEPS)
    return version


def gates_url(version):
    return reverse("versiongates-page", args=[version.dataset.slug, version.number])


def test_the_version_page_links_to_its_gates(client, alice, version):
    client.force_login(alice)
    page = client.get(reverse("version-page", args=[version.dataset.slug, version.number])).content.decode()
    assert f'href="{gates_url(version)}"' in page


def test_the_gates_page_before_and_after_a_run(client, alice, bob, version):
    client.force_login(alice)
    page = client.get(gates_url(version)).content.decode()
    assert "No succeeded gate run yet" in page and "Revision 1, changed by alice" in page
    assert 'id="start-run"' in page and "t_sample" in page
    response = client.post(reverse("versiongates-run-page", args=[version.dataset.slug, version.number]))
    run = GateRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("gaterun-page", args=[run.pk])
    run = services.execute_gate_run(run_id=run.pk)
    page = client.get(gates_url(version)).content.decode()
    assert f'Accepted pool: <strong id="accepted-count">{run.accepted_count}</strong>' in page
    assert '<svg class="chart funnel"' in page and "<title>Gate funnel: 22 candidates" in page
    assert re.search(r"<td>1</td><td><a [^>]+>t_word</a></td>\s*"
                     r"<td><code>\{&quot;word&quot;: &quot;spam&quot;\}</code></td><td>22</td><td>20</td><td>2</td>", page)
    client.force_login(bob)
    assert 'id="start-run"' not in client.get(gates_url(version)).content.decode()


def test_a_refused_start_says_why_on_the_page(client, alice, version):
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=[{"gate": "t_anchor"}])
    client.force_login(alice)
    response = client.post(reverse("versiongates-run-page", args=[version.dataset.slug, version.number]), follow=True)
    assert "step 1 (t_anchor) compare against the real anchor" in response.content.decode()
    assert not GateRun.objects.exists()


def test_the_run_page_browses_the_reject_set_by_gate(client, alice, charlie, version):
    run = run_now(alice, version)
    client.force_login(alice)
    url = reverse("gaterun-page", args=[run.pk])
    page = client.get(url).content.decode()
    assert 'id="run-progress" max="100" value="100"' in page and "<script>" not in page, "no polling once finished"
    assert f'href="{reverse("gaterun-rejections-csv", args=[run.pk])}"' in page
    assert page.count("<td>1. t_word</td>") == 2 and "<td>2. t_sample</td>" in page
    filtered = client.get(url, {"gate": "t_word"}).content.decode()
    assert filtered.count("contains &#x27;spam&#x27;") == 2 and "<td>2. t_sample</td>" not in filtered
    assert f'rejections.csv' not in filtered and "?gate=t_word" in filtered
    client.force_login(charlie)
    assert client.get(url).status_code == 404


def test_an_active_run_polls_and_a_failed_one_shows_its_traceback(client, alice, version):
    run = services.start_gate_run(actor=alice, version=version, enqueue=False)
    client.force_login(alice)
    page = client.get(reverse("gaterun-page", args=[run.pk])).content.decode()
    assert "<script>" in page and reverse("gaterun-detail", args=[run.pk]) in page
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=[*STEPS, {"gate": "t_crash"}])
    GateRun.objects.filter(pk=run.pk).update(status="failed")
    failed = run_now(alice, version)
    page = client.get(reverse("gaterun-page", args=[failed.pk])).content.decode()
    assert "Step 3 crashed; the steps before it are kept." in page and "RuntimeError: the gate fell over" in page


def test_the_run_page_shows_realism_and_fidelity(client, alice, tenant_a):
    version = gated_version(alice, tenant_a, "anchored", anchor=anchor_dataset(alice, tenant_a))
    run = run_now(alice, version)
    assert run.status == "succeeded", run.error
    client.force_login(alice)
    page = client.get(reverse("gaterun-page", args=[run.pk])).content.decode()
    assert 'id="realism-chart"' in page and 'id="fidelity"' in page


# Admin ------------------------------------------------------------------------------

def admin_form(steps):
    data = {"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000"}
    for i, (position, gate, params) in enumerate(steps):
        data.update({f"steps-{i}-position": str(position), f"steps-{i}-gate": gate, f"steps-{i}-params": params})
    return data


def test_governance_staff_order_the_cascade_in_the_admin(client, alice, tenant_a, gate_doubles):
    dataset = gated_version(alice, tenant_a).dataset
    client.force_login(alice)
    url = reverse("admin:gates_gatecascade_add")
    bad = client.post(url, {"dataset": dataset.pk, **admin_form([(1, "t_word", "{}"),
                                                                  (2, "t_sample", '{"share": 2}')])})
    assert bad.status_code == 200
    assert "step 2 (t_sample): share must be between 0.0 and 1.0, got 2" in bad.content.decode()
    assert not GateCascade.objects.exists()
    good = client.post(url, {"dataset": dataset.pk, **admin_form([(2, "t_word", "{}"),
                                                                   (1, "t_sample", '{"share": 0.5}')])})
    assert good.status_code == 302, good.content.decode()[:2000]
    cascade = GateCascade.objects.get()
    assert cascade.revision == 1 and cascade.step_config() == [{"gate": "t_sample", "params": {"share": 0.5}},
                                                               {"gate": "t_word", "params": {}}]
    assert cascade.history.count() >= 1 and cascade.steps.first().history.first().history_user == alice
    first, second = cascade.steps.all()
    change = {"steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "2", "steps-MIN_NUM_FORMS": "0",
              "steps-MAX_NUM_FORMS": "1000", "steps-0-id": first.pk, "steps-0-cascade": cascade.pk,
              "steps-0-position": "2", "steps-0-gate": "t_sample", "steps-0-params": '{"share": 0.5}',
              "steps-1-id": second.pk, "steps-1-cascade": cascade.pk, "steps-1-position": "1",
              "steps-1-gate": "t_word", "steps-1-params": '{"word": "buy"}'}
    response = client.post(reverse("admin:gates_gatecascade_change", args=[cascade.pk]), change)
    assert response.status_code == 302, response.content.decode()[:2000]
    cascade.refresh_from_db()
    assert cascade.revision == 2 and cascade.step_config() == [{"gate": "t_word", "params": {"word": "buy"}},
                                                               {"gate": "t_sample", "params": {"share": 0.5}}]


def test_runs_are_read_only_in_the_admin(client, alice, charlie, version):
    run = run_now(alice, version)
    client.force_login(alice)
    page = client.get(reverse("admin:gates_gaterun_change", args=[run.pk])).content.decode()
    assert "t_sample" in page and 'name="_save"' not in page
    assert client.get(reverse("admin:gates_gaterun_add")).status_code == 403
    client.force_login(charlie)
    assert client.get(reverse("admin:gates_gaterun_change", args=[run.pk])).status_code == 302


# Browser ------------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_user_runs_the_gates_and_browses_the_reject_set(browser_page, alice, tenant_a, gate_doubles):
    version = gated_version(alice, tenant_a)
    services.configure_cascade(actor=alice, dataset=version.dataset, steps=STEPS)
    page = browser_page
    login(page, "alice")
    page.goto(reverse("version-page", args=[version.dataset.slug, version.number]))
    page.click("#gates-link")
    page.click("#start-run")
    page.wait_for_selector("svg.funnel")
    assert page.text_content("#run-status") == "Succeeded"
    assert page.locator("#step-results tbody tr").count() == 2
    page.select_option("#gate-filter", "t_word")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"gate=t_word"))
    assert page.locator("#reject-set tbody tr").count() == 2
    with page.expect_download() as download:
        page.click("#csv-download")
    assert download.value.suggested_filename.endswith("-rejections.csv")
