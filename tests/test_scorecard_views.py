"""Where users see the scorecard: page, catalog, API, badge, CLI, exports."""
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import VersionLineage
from scorecard import services
from scorecard.models import ScorecardSnapshot
from scorecard.selectors import badge_token

from .factories import make_dataset, make_version
from .scorecard_helpers import CATALOG_EVIDENCE, build_evidence, set_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(alice, tenant_a, tmp_path):
    set_policy(checks=CATALOG_EVIDENCE)
    return build_evidence(alice, tenant_a, tmp_path)


def page_url(version, name="scorecard-page"):
    return reverse(name, args=[version.dataset.slug, version.number])


def test_the_page_shows_seven_tiles_with_checks_evidence_and_history(client, alice, evidence):
    client.force_login(alice)
    response = client.get(page_url(evidence.version) + "?use=training")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="careful-tile status-') == 7
    for code in CATALOG_EVIDENCE:
        assert f'data-code="{code}"' in html
    assert reverse("lineage-page", args=[evidence.version.dataset.slug, 1]) in html
    assert 'id="scorecard-history"' in html and ScorecardSnapshot.objects.filter(version=evidence.version).count() == 1
    # Viewing again records nothing new: the verdict did not change.
    client.get(page_url(evidence.version) + "?use=training")
    assert ScorecardSnapshot.objects.filter(version=evidence.version).count() == 1


def test_the_page_refuses_an_unknown_use_and_defaults_to_the_use_cell(client, alice, evidence):
    client.force_login(alice)
    assert client.get(page_url(evidence.version) + "?use=astrology").status_code == 400
    assert 'value="training" selected' in client.get(page_url(evidence.version)).content.decode()


def test_the_catalog_shows_the_stored_letters(client, alice, evidence):
    services.record_snapshot(evidence.version, "training")
    client.force_login(alice)
    html = client.get(reverse("catalog")).content.decode()
    assert 'class="careful-summary"' in html and 'title="C: pass"' in html and 'title="E: na"' in html


def test_the_api_returns_the_scorecard_and_its_history(api, alice, charlie, evidence):
    url = reverse("scorecard-detail", args=[evidence.version.pk])
    body = api(alice).get(url, {"use": "training"}).json()
    assert body["allowed"] is True and body["failing_letters"] == [] and body["code"] == "ppp--pp"
    assert [row["letter"] for row in body["letters"]] == list("CAREFUL")
    anchor_check = body["letters"][1]["checks"][0]
    assert anchor_check["code"] == "A.real_anchor" and anchor_check["status"] == "pass"
    assert anchor_check["evidence_url"] == reverse("dataset-page", args=[evidence.anchor.slug])
    bad = api(alice).get(url, {"use": "astrology"})
    assert bad.status_code == 400 and "use" in bad.json()
    assert api(charlie).get(url).status_code == 404
    history = api(alice).get(reverse("scorecard-history", args=[evidence.version.pk]), {"use": "training"}).json()
    assert [snap["code"] for snap in history] == ["ppp--pp"]


def test_the_openapi_schema_documents_the_scorecard(api, alice):
    schema = api(alice).get("/api/schema/?format=json").json()
    assert "/api/scorecards/{id}/" in schema["paths"] and "/api/scorecards/{id}/croissant/" in schema["paths"]
    assert "Scorecard" in schema["components"]["schemas"]


# Badge -----------------------------------------------------------------------

def parse_svg(response):
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def test_the_badge_renders_for_anyone_holding_its_token(client, evidence):
    token = badge_token(evidence.version)
    root = parse_svg(client.get(page_url(evidence.version, "scorecard-badge-page"), {"use": "training", "token": token}))
    texts = [node.text for node in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["CAREFUL · training", *"CAREFUL"]
    assert evidence.version.dataset.name not in root.findtext("{http://www.w3.org/2000/svg}title")


def test_the_badge_without_token_needs_login_and_scope(client, alice, charlie, evidence):
    url = page_url(evidence.version, "scorecard-badge-page")
    assert client.get(url).status_code == 302
    assert client.get(url, {"token": "0" * 32}).status_code == 302
    client.force_login(charlie)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    parse_svg(client.get(url))


def test_a_badge_token_opens_only_its_own_version(client, charlie, tenant_b, evidence):
    theirs = make_version(charlie, make_dataset(charlie, tenant_b, "b-data"))
    ours = badge_token(evidence.version)
    assert client.get(page_url(theirs, "scorecard-badge-page"), {"token": ours}).status_code == 302
    client.force_login(charlie)
    # Their own token on tenant A's version: still 404, nothing of A rendered.
    response = client.get(page_url(evidence.version, "scorecard-badge-page"), {"token": badge_token(theirs)})
    assert response.status_code == 404


# Exports -----------------------------------------------------------------------

RAI_FIELDS = ["rai:dataCollection", "rai:dataCollectionType", "rai:dataUseCases", "rai:dataLimitations",
              "rai:personalSensitiveInformation", "rai:dataReleaseMaintenancePlan", "rai:dataBiases",
              "rai:dataSocialImpact", "rai:hasSyntheticData"]


def test_the_croissant_export_is_json_ld_with_the_rai_fields(api, alice, evidence):
    response = api(alice).get(reverse("scorecard-croissant", args=[evidence.version.pk]), {"use": "training"})
    assert response["Content-Type"] == "application/ld+json"
    document = json.loads(response.content)
    context = document["@context"]
    assert context["cr"] == "http://mlcommons.org/croissant/" and context["rai"] == "http://mlcommons.org/croissant/RAI/"
    assert document["@type"] == "sc:Dataset" and document["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    for field in RAI_FIELDS:
        assert document[field] not in ("", None, []), field
    assert "Intended use: training" in document["rai:dataUseCases"]
    assert "Prohibited uses: evaluation" in document["rai:dataLimitations"]
    assert "3 synthetic rows generated by sim-llm@2026-09" in document["rai:dataCollection"]
    assert document["rai:hasSyntheticData"] is True
    assert document["carefulScorecard"]["code"] == "ppp--pp"
    assert document["carefulManifest"]["content_hash"] == evidence.version.manifest.content_hash


def test_the_page_downloads_croissant_and_the_markdown_data_card(client, alice, evidence):
    client.force_login(alice)
    croissant = client.get(page_url(evidence.version, "croissant-page"))
    assert "attachment" in croissant["Content-Disposition"] and json.loads(croissant.content)["@type"] == "sc:Dataset"
    card = client.get(page_url(evidence.version, "datacard-page"), {"use": "training"}).content.decode()
    assert card.startswith(f"# Data card: {evidence.version.dataset.name} v1")
    assert "| A | Anchored reality: what real data anchors it? | pass |" in card
    assert "Why real data won't suffice:** They are rare by nature." in card  # not HTML-escaped


# CLI -----------------------------------------------------------------------------

def test_the_cli_exits_zero_when_allowed_and_one_when_a_letter_blocks(evidence, capsys):
    call_command("scorecard", evidence.version.dataset.slug, "--use", "training")
    assert "allowed: no letter blocks training" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        call_command("scorecard", evidence.version.dataset.slug, "--version", "1", "--use", "evaluation",
                     "--format", "json")
    assert exited.value.code == 1
    body = json.loads(capsys.readouterr().out)
    assert body["allowed"] is False and "E" in body["failing_letters"]


@pytest.mark.parametrize("args", [["nope", "--use", "training"], ["{slug}", "--version", "9", "--use", "training"],
                                  ["{slug}", "--use", "astrology"]])
def test_the_cli_exits_two_on_bad_input(evidence, args):
    args = [arg.format(slug=evidence.version.dataset.slug) for arg in args]
    with pytest.raises(CommandError) as refused:
        call_command("scorecard", *args)
    assert refused.value.returncode == 2


# Speed -----------------------------------------------------------------------------

def scorecard_queries(version):
    with CaptureQueriesContext(connection) as captured:
        services.compute_scorecard(version, "training")
    return len(captured)


def test_the_scorecard_costs_the_same_queries_whatever_the_example_count(alice, tenant_a, tmp_path,
                                                                         django_assert_max_num_queries):
    """Default training policy: every registered check of every app runs."""
    small = build_evidence(alice, tenant_a, tmp_path, slug="small", rows=3).version
    large = build_evidence(alice, tenant_a, tmp_path, slug="large", rows=400).version
    assert VersionLineage.objects.get(version=large).total == 400
    assert scorecard_queries(small) == scorecard_queries(large)
    with django_assert_max_num_queries(40):
        services.compute_scorecard(large, "training")


def test_the_page_costs_a_constant_number_of_queries(client, alice, tenant_a, tmp_path):
    small = build_evidence(alice, tenant_a, tmp_path, slug="small", rows=3).version
    large = build_evidence(alice, tenant_a, tmp_path, slug="large", rows=400).version
    client.force_login(alice)
    counts = []
    for version in (small, large):
        client.get(page_url(version))  # first view records the snapshot
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page_url(version)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
