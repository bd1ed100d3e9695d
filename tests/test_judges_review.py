"""Human decisions on the review queue, the evidence reads the gates and the
scorecard use (human_rejected_ids, label accuracy with its Wilson interval),
the two F checks, the admin queue, the judges page and the demo chapter."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from judges import selectors, services
from judges.careful_checks import judges_resolved, label_accuracy
from judges.models import ReviewItem, ReviewReason
from registry.choices import Role, VersionState
from registry.models import DatasetVersion
from registry.errors import Conflict
from scorecard.checks import Status

from .factories import WORKFLOW_EVIDENCE
from .scorecard_helpers import set_policy
from .factories import make_user
from .test_judges_upload import agreeing, generator, gwen, judged_version, upload, version  # noqa: F401 (fixtures)
from .test_governance_workflow import _race, requires_postgres
from .test_training_mix import approve_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


def item_of(version, ordinal, reason=ReviewReason.DISAGREEMENT):
    return ReviewItem.objects.get(version=version, example__ordinal=ordinal, reason=reason)


@pytest.fixture
def queued(alice, version):
    upload(alice, version, {1: (0.9, 0.1), 2: (0.8, 0.2), 3: (0.7, 0.1), **agreeing(7, start=4)})
    return version


def test_a_governance_reviewer_decides_and_reject_feeds_the_gates(gwen, queued):
    services.decide_review_item(actor=gwen, item=item_of(queued, 1), decision="reject", comment="off-intent")
    services.decide_review_item(actor=gwen, item=item_of(queued, 2), decision="relabel", corrected_label="refund")
    accepted = services.decide_review_item(actor=gwen, item=item_of(queued, 3), decision="accept")
    assert accepted.label_correct is True and accepted.reviewer == gwen and accepted.decided_at
    assert selectors.human_rejected_ids(queued) == {item_of(queued, 1).example_id}
    assert selectors.human_relabels(queued) == {item_of(queued, 2).example_id: "refund"}
    assert item_of(queued, 2).label_correct is False
    assert selectors.queue_counts(queued)["open_disagreements"] == 0


def test_who_may_decide(alice, bob, tenant_a, tenant_b, queued):
    item = item_of(queued, 1)
    for user in (bob, make_user("legal", tenant=tenant_a, roles=[Role.LEGAL_REVIEWER]),
                 make_user("other", tenant=tenant_b, roles=[Role.GOVERNANCE_REVIEWER])):
        with pytest.raises(PermissionDenied, match="Only governance reviewers of tenant-a"):
            services.decide_review_item(actor=user, item=item, decision="accept")
    # Separation of duties: the version's creator does not review its examples, whatever roles they hold.
    from registry.models import Membership

    Membership.objects.create(user=alice, tenant=tenant_a, role=Role.GOVERNANCE_REVIEWER)
    with pytest.raises(PermissionDenied, match="You created this version"):
        services.decide_review_item(actor=alice, item=item, decision="accept")
    assert item_of(queued, 1).is_open


@pytest.mark.parametrize("decision, extra, field", [
    ("maybe", {}, "decision"),
    ("relabel", {}, "corrected_label"),
    ("relabel", {"corrected_label": "billing"}, "corrected_label"),
    ("relabel", {"corrected_label": "refund", "label_correct": True}, "label_correct"),
    ("accept", {"label_correct": False}, "label_correct"),
    ("reject", {"corrected_label": "refund"}, "corrected_label"),
])
def test_inconsistent_decisions_are_refused_naming_the_field(gwen, queued, decision, extra, field):
    with pytest.raises(ValidationError) as refused:
        services.decide_review_item(actor=gwen, item=item_of(queued, 1), decision=decision, **extra)
    assert field in refused.value.message_dict
    assert item_of(queued, 1).is_open


def test_a_decision_changes_only_by_an_explicit_override_with_history(gwen, queued):
    item = services.decide_review_item(actor=gwen, item=item_of(queued, 1), decision="accept")
    with pytest.raises(Conflict) as refused:
        services.decide_review_item(actor=gwen, item=item, decision="reject")
    assert refused.value.code == "already_decided"
    with pytest.raises(ValidationError):
        services.decide_review_item(actor=gwen, item=item, decision="reject", override=True)
    services.decide_review_item(actor=gwen, item=item, decision="reject", override=True, comment="second look")
    history = list(item_of(queued, 1).history.order_by("history_date").values_list(
        "decision", "history_change_reason"))
    assert history[-2:] == [("accept", "decided"), ("reject", "overridden")]


def test_open_disagreements_block_approval_and_approved_versions_refuse_decisions(gwen, queued):
    set_policy(checks={**WORKFLOW_EVIDENCE, "F.judges_resolved": {}})
    with pytest.raises(AssertionError):
        approve_version(queued)  # the scorecard's F fails: F.judges_resolved
    from governance.selectors import failing_letters

    assert "F" in failing_letters(queued, "training")
    DatasetVersion.objects.filter(pk=queued.pk).update(state=VersionState.APPROVED)
    with pytest.raises(Conflict, match="approved"):
        services.decide_review_item(actor=gwen, item=item_of(queued, 1), decision="accept")


def test_wilson_interval_matches_the_closed_form():
    low, high = selectors.wilson_interval(19, 20)
    assert low == pytest.approx(0.7639, abs=1e-4) and high == pytest.approx(0.9911, abs=1e-4)
    assert selectors.wilson_interval(0, 0) is None
    assert selectors.wilson_interval(20, 20)[1] == 1.0


# The F checks

def calibrated(alice, tenant_a, generator, n, slug):
    """A version whose every example is agreed on and auto-accepted: all in the calibration sample."""
    version = judged_version(alice, tenant_a, generator, n=n, slug=slug, calibration_rate=1.0)
    upload(alice, version, agreeing(n))
    return version


def review_calibration(gwen, version, wrong):
    for i, item in enumerate(version.review_items.order_by("example__ordinal")):
        if i < wrong:
            services.decide_review_item(actor=gwen, item=item, decision="relabel", corrected_label="other")
        else:
            services.decide_review_item(actor=gwen, item=item, decision="accept")


def test_judges_resolved(alice, gwen, version):
    assert judges_resolved(version, "training", {}).status == Status.MISSING
    upload(alice, version, {1: (0.9, 0.1), **agreeing(8, start=2)})
    result = judges_resolved(version, "training", {})
    assert result.status == Status.FAIL and result.verdict.startswith("1 judge disagreement(s) wait")
    assert result.evidence_url == f"/datasets/{version.dataset.slug}/v1/judges/"
    services.decide_review_item(actor=gwen, item=item_of(version, 1), decision="reject")
    result = judges_resolved(version, "training", {})
    assert result.status == Status.WARN and "1 not scored by the whole panel" in result.verdict
    upload(alice, version, {10: (0.6, 0.6)})
    assert judges_resolved(version, "training", {}).status == Status.PASS


@pytest.mark.parametrize("n, wrong, status", [
    (19, 0, Status.MISSING),   # too few reviewed
    (60, 0, Status.PASS),      # 60/60: Wilson lower bound 0.940 >= 0.9
    (25, 1, Status.WARN),      # 24/25 = 0.96 >= 0.9, but the lower bound 0.805 is not
    (20, 4, Status.FAIL),      # 16/20 = 0.8 < 0.9
])
def test_label_accuracy(alice, gwen, tenant_a, generator, n, wrong, status):
    version = calibrated(alice, tenant_a, generator, n, f"cal-{n}-{wrong}")
    review_calibration(gwen, version, wrong)
    result = label_accuracy(version, "training", {"min_accuracy": 0.9})
    assert result.status == status, result.verdict
    if status != Status.MISSING:
        assert result.value == pytest.approx((n - wrong) / n, abs=1e-4)
        assert result.evidence["reviewed"] == n


def test_auto_rejected_spot_checks_count_toward_agreement_not_label_accuracy(alice, gwen, tenant_a, generator):
    version = judged_version(alice, tenant_a, generator, n=4, slug="low", calibration_rate=1.0)
    upload(alice, version, {**agreeing(2), **agreeing(2, start=3, score=0.1)})
    decisions = {1: ("accept", None), 2: ("reject", True), 3: ("accept", None), 4: ("reject", None)}
    for item in version.review_items.order_by("example__ordinal"):
        decision, label_correct = decisions[item.example.ordinal]
        services.decide_review_item(actor=gwen, item=item, decision=decision, label_correct=label_correct)
    accuracy = selectors.label_accuracy(version)
    # Labels: the two auto-accepted items (1, 2); agreement with the judges: 1 and 4.
    assert (accuracy.reviewed, accuracy.correct, accuracy.decisions_reviewed, accuracy.decisions_agreed) == (2, 2, 4, 2)


# The admin queue, the page and the demo

def test_the_admin_queue_is_scoped_and_records_a_decision(client, gwen, charlie, queued):
    client.force_login(gwen)
    listing = client.get("/admin/judges/reviewitem/?open=yes&reason=disagreement")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "ticket 0 about billing" in body and "classifier 0.10 · rubric-llm 0.90" in body
    item = item_of(queued, 1)
    page = client.get(f"/admin/judges/reviewitem/{item.pk}/change/")
    assert page.status_code == 200 and 'id="judge-scores"' in page.content.decode()
    response = client.post(f"/admin/judges/reviewitem/{item.pk}/change/",
                           {"decision": "relabel", "corrected_label": "refund", "comment": "it asks for money back"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.decision, item.corrected_label, item.reviewer) == ("relabel", "refund", gwen)
    refused = client.post(f"/admin/judges/reviewitem/{item.pk}/change/", {"decision": "accept"}, follow=True)
    assert "Refused: Already decided" in refused.content.decode()
    response = client.post("/admin/judges/reviewitem/", {
        "action": "accept_selected", "_selected_action": [item_of(queued, 2).pk, item_of(queued, 3).pk]})
    assert response.status_code == 302 and selectors.queue_counts(queued)["open_disagreements"] == 0
    client.force_login(charlie)
    assert "ticket 0 about billing" not in client.get("/admin/judges/reviewitem/").content.decode()
    assert client.get(f"/admin/judges/reviewitem/{item.pk}/change/").status_code == 404


def test_the_judges_page_draws_the_pictures(client, alice, gwen, queued):
    services.decide_review_item(actor=gwen, item=item_of(queued, 1), decision="reject")
    client.force_login(alice)
    page = client.get(f"/datasets/{queued.dataset.slug}/v1/judges/")
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count("<svg") == 4  # spread histogram, agreement matrix, one histogram per judge
    assert 'id="open-disagreements">2<' in body and "Judge agreement matrix" in body
    version_page = client.get(f"/datasets/{queued.dataset.slug}/v1/")
    assert f"/datasets/{queued.dataset.slug}/v1/judges/" in version_page.content.decode()


def test_the_judges_page_without_a_panel_or_scores(client, alice, tenant_a, generator):
    from .test_training_mix import synthetic_version

    version = synthetic_version(alice, tenant_a, "unjudged", [("a ticket", "billing")], generator, approve=False)
    client.force_login(alice)
    body = client.get(f"/datasets/{version.dataset.slug}/v1/judges/").content.decode()
    assert 'id="no-panel"' in body and 'id="no-scores"' in body and "<svg" not in body


def test_panels_are_configured_in_the_admin_by_writers_only(client, alice, gwen, version, tenant_a, generator):
    from judges.models import JudgePanel

    from .test_training_mix import synthetic_version

    fresh = synthetic_version(alice, tenant_a, "fresh", [("a ticket", "billing")], generator, approve=False)
    client.force_login(gwen)
    assert client.get("/admin/judges/judgepanel/add/").status_code == 403
    client.force_login(alice)
    form = {"dataset": fresh.dataset.pk, "judges": '["x", "y"]', "scale_min": 0, "scale_max": 10,
            "disagreement_threshold": 0.2, "accept_threshold": 0.6, "calibration_rate": 0.1, "seed": 5}
    refused = client.post("/admin/judges/judgepanel/add/", {**form, "judges": '["x"]'})
    assert refused.status_code == 200 and "at least two judges" in refused.content.decode()
    assert client.post("/admin/judges/judgepanel/add/", form).status_code == 302
    panel = JudgePanel.objects.get(dataset=fresh.dataset)
    assert (panel.judges, panel.scale_max, panel.created_by) == (["x", "y"], 10, alice)
    assert panel.history.get().history_user == alice


def test_api_review_queue_and_decision(api, alice, gwen, bob, queued):
    listed = api(bob).get(f"/api/judges/review-items/?version={queued.pk}&open=true&reason=disagreement").json()
    assert listed["count"] == 3 and listed["results"][0]["scores"] == {"classifier": 0.1, "rubric-llm": 0.9}
    pk = item_of(queued, 1).pk
    assert api(bob).post(f"/api/judges/review-items/{pk}/decision/", {"decision": "accept"}).status_code == 403
    response = api(gwen).post(f"/api/judges/review-items/{pk}/decision/",
                              {"decision": "relabel", "corrected_label": ""}, format="json")
    assert response.status_code == 400 and "corrected_label" in response.json()
    response = api(gwen).post(f"/api/judges/review-items/{pk}/decision/", {"decision": "reject"}, format="json")
    assert response.status_code == 200 and response.json()["decision"] == "reject"
    again = api(gwen).post(f"/api/judges/review-items/{pk}/decision/", {"decision": "accept"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert api(bob).get(f"/api/judges/review-items/?version={queued.pk}&open=false").json()["count"] == 1


def test_demo_chapter(db):
    from governance.demo import extend_demo as governance_demo
    from judges.demo import extend_demo
    from registry import demo

    story = demo.base_story()
    governance_demo(story)
    extend_demo(story)
    version = story.extra["judges"]["version"]
    counts = selectors.queue_counts(version)
    assert counts["open_disagreements"] == 5 and counts["decided_disagreements"] == 3
    assert counts["decided_calibration"] == 4 and counts["open_calibration"] > 10
    assert len(selectors.human_rejected_ids(version)) == 3
    assert judges_resolved(version, "training", {}).status == Status.FAIL


@pytest.mark.postgres_only
@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_reviewers_deciding_at_once_record_one_decision(attempt, alice, gwen, tenant_a, generator):
    version = judged_version(alice, tenant_a, generator, n=2, slug=f"race-{attempt}")
    upload(alice, version, {1: (0.9, 0.1)})
    item = item_of(version, 1)
    other = make_user(f"greta-{attempt}", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER])
    results = _race(
        lambda: services.decide_review_item(actor=gwen, item=item, decision="accept"),
        lambda: services.decide_review_item(actor=other, item=item, decision="reject"),
    )
    assert sum(isinstance(r, ReviewItem) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert item_of(version, 1).history.exclude(decision="").count() == 1
