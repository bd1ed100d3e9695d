"""Judge score uploads: validation that names the line and writes nothing on
error, queue generation (disagreements and the seeded calibration sample),
idempotent re-uploads, frozen approved versions, and the API. Helpers here are
shared by the other tests/test_judges_*.py modules."""
import io
import math

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from judges import selectors, services
from judges.models import JudgeScore, ReviewItem, ReviewReason, ScoreUpload
from registry.choices import Role
from registry.errors import Conflict

from .factories import make_user
from .test_training_mix import approve_version, synthetic_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]

JUDGES = ["rubric-llm", "classifier"]


def judged_version(owner, tenant, generator, n=10, slug="judged", **panel):
    """A draft synthetic version of ``n`` examples and a two-judge panel."""
    version = synthetic_version(owner, tenant, slug, [(f"ticket {i} about billing", "billing") for i in range(n)],
                                generator, approve=False)
    settings = {"judges": JUDGES, "disagreement_threshold": 0.3, "accept_threshold": 0.5,
                "calibration_rate": 0.5, "seed": 1, **panel}
    services.configure_panel(actor=owner, dataset=version.dataset, **settings)
    return version


def upload(actor, version, scores, **kwargs):
    """``scores``: {ordinal: (score of judge 1, score of judge 2)}."""
    rows = [{"example": ordinal, "judge": judge, "score": value}
            for ordinal, pair in scores.items() for judge, value in zip(JUDGES, pair) if value is not None]
    return services.upload_judge_scores(actor=actor, version=version, rows=services.rows_from_json(rows), **kwargs)


def agreeing(n, start=1, score=0.8):
    return {i: (score, score) for i in range(start, start + n)}


@pytest.fixture
def generator(alice):
    from registry.services import register_generator

    return register_generator(actor=alice, name="sim-llm", version="2026-09")


@pytest.fixture
def gwen(tenant_a):
    """Governance reviewer of tenant A: decides review items."""
    return make_user("gwen", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER], is_staff=True)


@pytest.fixture
def version(alice, tenant_a, generator):
    return judged_version(alice, tenant_a, generator)


def items(version, reason):
    return set(ReviewItem.objects.filter(version=version, reason=reason).values_list("example__ordinal", flat=True))


def test_disagreements_and_a_seeded_calibration_sample_are_queued(alice, version):
    scores = {1: (0.9, 0.1), 2: (0.5, 0.85), 3: (0.6, 0.85), **agreeing(7, start=4), 10: (0.2, 0.1)}
    result = upload(alice, version, scores)
    assert (result.rows, result.created, result.replaced) == (20, 20, 0)
    # Spread strictly above 0.3 is a disagreement: 0.8 and 0.35 are, 0.25 is not.
    assert items(version, ReviewReason.DISAGREEMENT) == {1, 2}
    panel = version.dataset.judge_panel
    expected = {e.ordinal for e in version.examples.exclude(ordinal__in=[1, 2])
                if services.in_calibration_sample(panel, e.ordinal, e.content_hash)}
    assert 0 < len(expected) < 8 and items(version, ReviewReason.CALIBRATION) == expected
    calibration = ReviewItem.objects.filter(version=version, reason=ReviewReason.CALIBRATION)
    assert {i.auto_decision for i in calibration if i.example.ordinal == 10} <= {"reject"}
    assert result.queue["open_disagreements"] == 2 and result.queue["open_calibration"] == len(expected)
    judging = selectors.judging(version)
    assert (judging.examples, judging.scored, judging.complete, judging.disagreements) == (10, 10, 10, 2)
    assert judging.auto_accepted == 7 and judging.auto_rejected == 1
    # Every queued item has a history row naming the uploader.
    assert ReviewItem.history.filter(history_user=alice).count() == ReviewItem.objects.count()


def test_the_same_seed_gives_the_same_sample_and_another_seed_another(alice, tenant_a, generator):
    samples = []
    for slug, seed in (("s1", 3), ("s2", 3), ("s3", 4)):
        version = judged_version(alice, tenant_a, generator, n=40, slug=slug, seed=seed)
        upload(alice, version, agreeing(40))
        samples.append(items(version, ReviewReason.CALIBRATION))
    assert samples[0] == samples[1] != samples[2]
    assert 8 <= len(samples[0]) <= 32  # about half of 40


def test_reupload_is_idempotent_and_a_rescore_withdraws_open_items(alice, gwen, version):
    scores = {1: (0.9, 0.1), 2: (0.9, 0.2), **agreeing(8, start=3)}
    upload(alice, version, scores)
    before = set(ReviewItem.objects.values_list("pk", flat=True))
    again = upload(alice, version, scores)
    assert (again.created, again.replaced, again.unchanged) == (0, 0, 20)
    assert again.queue["created"] == again.queue["withdrawn"] == 0
    assert set(ReviewItem.objects.values_list("pk", flat=True)) == before
    decided = ReviewItem.objects.get(example__ordinal=2, reason=ReviewReason.DISAGREEMENT)
    services.decide_review_item(actor=gwen, item=decided, decision="reject")
    # The second judge re-scores 1 and 2: they now agree. The open item goes, the decided one stays.
    rescore = upload(alice, version, {1: (None, 0.85), 2: (None, 0.85)})
    assert (rescore.created, rescore.replaced) == (0, 2)
    assert sorted(rescore.replaced_scores) == sorted([[decided.example_id, "classifier", 0.2, 0.85],
                                                     [version.examples.get(ordinal=1).pk, "classifier", 0.1, 0.85]])
    assert rescore.queue["withdrawn"] == 1
    assert items(version, ReviewReason.DISAGREEMENT) == {2}
    assert ReviewItem.history.filter(history_type="-", history_change_reason__startswith="withdrawn").count() == 1
    assert JudgeScore.objects.get(example__ordinal=1, judge="classifier").upload == rescore


def test_a_partial_panel_is_not_auto_decided(alice, version):
    upload(alice, version, {1: (0.9, None), 2: (0.9, 0.1)})
    judging = selectors.judging(version)
    assert (judging.scored, judging.complete) == (2, 1)
    assert items(version, ReviewReason.CALIBRATION) == set() and items(version, ReviewReason.DISAGREEMENT) == {2}


def rows_with(**row):
    good = {"example": 1, "judge": JUDGES[0], "score": 0.5}
    return [good, {**good, "judge": JUDGES[1]}, {**good, "example": 2, **row}]


@pytest.mark.parametrize("row, message", [
    ({"example": 99}, "row 3: example 99 is not an ordinal of"),
    ({"example": "nope"}, "row 3: example 'nope' is neither an ordinal nor a content hash"),
    ({"example": None}, "row 3: example is missing"),
    ({"judge": "gpt-x"}, "row 3: judge 'gpt-x' is not on the panel (rubric-llm, classifier)"),
    ({"judge": ""}, "row 3: judge is missing"),
    ({"score": 1.5}, "row 3: score 1.5 is outside the panel's scale 0 to 1"),
    ({"score": -0.1}, "row 3: score -0.1 is outside the panel's scale 0 to 1"),
    ({"score": "NaN"}, "row 3: score 'NaN' is not a finite number"),
    ({"score": "inf"}, "row 3: score 'inf' is not a finite number"),
    ({"score": "high"}, "row 3: score 'high' is not a number"),
    ({"score": None}, "row 3: score is missing or not a number"),
    ({"score": True}, "row 3: score is missing or not a number"),
    ({"extra": 1}, "row 3: unknown field(s) extra"),
    ({"example": 1}, "row 3: example 1 is scored by 'rubric-llm' again (first on row 1)"),
])
def test_a_bad_row_refuses_the_upload_naming_the_row(alice, version, row, message):
    with pytest.raises(ValidationError) as refused:
        services.upload_judge_scores(actor=alice, version=version, rows=services.rows_from_json(rows_with(**row)))
    errors = refused.value.message_dict["rows"]
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert not JudgeScore.objects.exists() and not ScoreUpload.objects.exists() and not ReviewItem.objects.exists()


def csv_bytes(text):
    return io.BytesIO(text.encode("utf-8"))


def test_csv_upload_takes_ordinals_or_content_hashes_and_names_bad_lines(alice, version):
    example = version.examples.get(ordinal=4)
    good = f"example,judge,score,rationale\n1,rubric-llm,0.9,fine\n{example.content_hash},classifier,0.2,\"off, really\"\n"
    result = services.upload_judge_scores(actor=alice, version=version, rows=services.rows_from_csv(csv_bytes(good)),
                                          file_name="scores.csv")
    assert result.created == 2 and result.file_name == "scores.csv"
    assert JudgeScore.objects.get(example=example).rationale == "off, really"
    bad = "example,judge,score\n2,rubric-llm,0.4\n3,rubric-llm,2\n3,classifier,nan\n"
    with pytest.raises(ValidationError) as refused:
        services.upload_judge_scores(actor=alice, version=version, rows=services.rows_from_csv(csv_bytes(bad)))
    assert refused.value.message_dict["rows"] == [
        "line 3: score 2 is outside the panel's scale 0 to 1", "line 4: score 'nan' is not a finite number",
    ]
    assert JudgeScore.objects.count() == 2
    with pytest.raises(ValidationError) as refused:
        services.rows_from_csv(csv_bytes("example,judge,grade\n1,a,1\n"))
    assert refused.value.message_dict["file"] == [
        "line 1: missing column(s) score; unknown column(s) grade (columns: example, judge, score, rationale)."
    ]


def test_a_content_hash_shared_by_duplicates_is_ambiguous(alice, tenant_a, generator):
    version = judged_version(alice, tenant_a, generator, n=1, slug="dups")
    twin = version.examples.get()
    twin.pk, twin.ordinal, twin.dup_rank = None, 2, 1
    twin.save()
    with pytest.raises(ValidationError) as refused:
        upload_rows = [{"example": twin.content_hash, "judge": JUDGES[0], "score": 0.5}]
        services.upload_judge_scores(actor=alice, version=version, rows=services.rows_from_json(upload_rows))
    assert "matches 2 examples; give the ordinal" in refused.value.message_dict["rows"][0]


def test_scores_are_normalized_from_the_panel_scale(alice, tenant_a, generator):
    version = judged_version(alice, tenant_a, generator, n=2, scale_min=1, scale_max=5, disagreement_threshold=0.5)
    upload(alice, version, {1: (5, 1), 2: (4, 3)})
    assert {(s.raw_score, s.score) for s in JudgeScore.objects.filter(judge=JUDGES[0])} == {(5, 1.0), (4, 0.75)}
    assert items(version, ReviewReason.DISAGREEMENT) == {1}


def test_the_database_refuses_a_score_outside_the_unit_interval(alice, version):
    upload(alice, version, {1: (0.5, 0.5)})
    with pytest.raises(IntegrityError), transaction.atomic():
        JudgeScore.objects.filter(example__ordinal=1).update(score=1.2)
    with pytest.raises(IntegrityError), transaction.atomic():
        JudgeScore.objects.create(version=version, example=version.examples.get(ordinal=1), judge=JUDGES[0],
                                  raw_score=0.1, score=0.1, upload=ScoreUpload.objects.get())


def test_approved_versions_refuse_uploads_and_viewers_cannot_upload(alice, bob, version):
    with pytest.raises(PermissionDenied):
        upload(bob, version, {1: (0.5, 0.5)})
    approve_version(version)
    with pytest.raises(Conflict) as refused:
        upload(alice, version, {1: (0.5, 0.5)})
    assert refused.value.code == "version_frozen" and "approved" in refused.value.message
    assert not JudgeScore.objects.exists()


def test_panel_validation_and_reconfiguration_recomputes_the_queue(alice, version):
    with pytest.raises(ValidationError) as refused:
        services.configure_panel(actor=alice, dataset=version.dataset, judges=["only-one"])
    assert "at least two judges" in refused.value.message_dict["judges"][0]
    for field, value in (("disagreement_threshold", 1.5), ("calibration_rate", math.nan), ("scale_max", -1)):
        with pytest.raises(ValidationError) as refused:
            services.configure_panel(actor=alice, dataset=version.dataset, **{field: value})
        assert field in refused.value.message_dict
    upload(alice, version, {1: (0.9, 0.5), 2: (0.9, 0.1)})
    assert items(version, ReviewReason.DISAGREEMENT) == {1, 2}
    services.configure_panel(actor=alice, dataset=version.dataset, disagreement_threshold=0.5)
    assert items(version, ReviewReason.DISAGREEMENT) == {2}
    assert version.dataset.judge_panel.history.count() == 2
    # Stored scores were normalized on the current scale: it no longer changes.
    with pytest.raises(ValidationError) as refused:
        services.configure_panel(actor=alice, dataset=version.dataset, scale_max=10)
    assert "cannot change" in refused.value.message_dict["scale_min"][0]


# The API

def test_api_uploads_json_and_csv_and_lists_scores(api, alice, version):
    client = api(alice)
    rows = [{"example": i, "judge": j, "score": 0.8} for i in range(1, 4) for j in JUDGES]
    response = client.post("/api/judges/uploads/", {"version": version.pk, "rows": rows}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 6 and "open_calibration" in response.json()["queue"]
    csv = io.BytesIO(b"example,judge,score\n4,rubric-llm,0.9\n4,classifier,0.1\n")
    csv.name = "more.csv"
    response = client.post("/api/judges/uploads/", {"version": version.pk, "file": csv}, format="multipart")
    assert response.status_code == 201 and response.json()["queue"]["open_disagreements"] == 1
    listed = client.get(f"/api/judges/scores/?version={version.pk}&judge=classifier").json()
    assert listed["count"] == 4 and {row["ordinal"] for row in listed["results"]} == {1, 2, 3, 4}


def test_api_names_bad_lines_and_maps_frozen_versions_to_409(api, alice, bob, version):
    client = api(alice)
    response = client.post("/api/judges/uploads/", {"version": version.pk, "rows": [
        {"example": 1, "judge": "rubric-llm", "score": 0.5}, {"example": 1, "judge": "x", "score": 7}]}, format="json")
    assert response.status_code == 400
    assert response.json()["rows"] == [
        "row 2: judge 'x' is not on the panel (rubric-llm, classifier); score 7 is outside the panel's scale 0 to 1"
    ]
    response = client.post("/api/judges/uploads/", {"version": version.pk}, format="json")
    assert response.status_code == 400 and "rows" in response.json()
    response = api(bob).post("/api/judges/uploads/", {"version": version.pk, "rows": []}, format="json")
    assert response.status_code == 403
    approve_version(version)
    response = client.post("/api/judges/uploads/", {"version": version.pk, "rows": [
        {"example": 1, "judge": "rubric-llm", "score": 0.5}]}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "version_frozen"


def test_api_configures_a_panel(api, alice, tenant_a, generator):
    version = synthetic_version(alice, tenant_a, "fresh", [("a ticket", "billing")], generator, approve=False)
    client = api(alice)
    response = client.post("/api/judges/panels/", {"dataset": version.dataset.slug, "judges": ["a", "b", "c"],
                                                  "calibration_rate": 0.2}, format="json")
    assert response.status_code == 201 and response.json()["judges"] == ["a", "b", "c"]
    pk = response.json()["id"]
    response = client.patch(f"/api/judges/panels/{pk}/", {"disagreement_threshold": 2}, format="json")
    assert response.status_code == 400 and "disagreement_threshold" in response.json()
    response = client.patch(f"/api/judges/panels/{pk}/", {"judges": ["a", "a"]}, format="json")
    assert response.status_code == 400 and response.json()["judges"] == ["A judge is listed twice."]
