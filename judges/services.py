"""Judge actions: configure a dataset's panel, upload judge scores (and
recompute the version's review queue), record a human decision.

Views, API, admin and the demo call these; each checks scope and validates
every input before writing anything, and writes all or nothing.
"""
import csv
import hashlib
import io
import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from registry import audit, permissions
from registry.choices import VersionState
from registry.errors import Conflict
from registry.models import DatasetVersion, Example
from registry.services import save_with_history

from .models import (
    AutoDecision, HumanDecision, JudgePanel, JudgeScore, ReviewItem, ReviewReason, ScoreUpload, VersionJudging,
)

# Judge evidence may change while the version can still change state towards
# approval; from approval on, what was approved on is frozen.
OPEN_STATES = (VersionState.DRAFT, VersionState.IN_REVIEW)
PANEL_FIELDS = ("judges", "scale_min", "scale_max", "disagreement_threshold", "accept_threshold",
                "calibration_rate", "seed")
UNIT_FIELDS = ("disagreement_threshold", "accept_threshold", "calibration_rate")
COLUMNS = ("example", "judge", "score", "rationale")
REQUIRED_COLUMNS = ("example", "judge", "score")
MAX_ERRORS = 20
MAX_RATIONALE = 10000


def _check_open(version, what):
    if version.state not in OPEN_STATES:
        raise Conflict(
            f"{version} is {version.get_state_display().lower()}: its judge evidence is frozen, so {what} "
            "is refused. Judge a new version instead.",
            code="version_frozen",
        )


# Panels

def clean_judges(judges):
    if not isinstance(judges, list) or not all(isinstance(j, str) for j in judges):
        raise ValidationError({"judges": "Must be a list of judge names."})
    names = [j.strip() for j in judges]
    if len(names) < 2:
        raise ValidationError({"judges": "A panel needs at least two judges to disagree."})
    if any(not n or len(n) > 100 for n in names):
        raise ValidationError({"judges": "Judge names are 1 to 100 characters."})
    if len(set(names)) != len(names):
        raise ValidationError({"judges": "A judge is listed twice."})
    return names


@transaction.atomic
def configure_panel(*, actor, dataset, **fields):
    """Create or change the dataset's judge panel, then recompute the queue of
    every version whose judge evidence is still open."""
    unknown = sorted(set(fields) - set(PANEL_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: "Unknown judge panel field."})
    permissions.require(actor, "configure_judges", dataset, message=f"You may not configure the judges of {dataset}.")
    panel = JudgePanel.objects.select_for_update().filter(dataset=dataset).first()
    created = panel is None
    panel = panel or JudgePanel(dataset=dataset, created_by=actor)
    old_scale = (panel.scale_min, panel.scale_max)
    if "judges" in fields:
        fields["judges"] = clean_judges(fields["judges"])
    elif created:
        raise ValidationError({"judges": "Name the panel's judges."})
    for name, value in fields.items():
        if name != "judges" and (isinstance(value, bool) or not isinstance(value, (int, float))
                                 or not math.isfinite(value)):
            raise ValidationError({name: "Must be a finite number."})
        if name in UNIT_FIELDS and not 0 <= value <= 1:
            raise ValidationError({name: f"Must be between 0 and 1, got {value:g}."})
        setattr(panel, name, value)
    if panel.scale_max <= panel.scale_min:
        raise ValidationError({"scale_max": "Must be greater than scale_min."})
    rescaled = (panel.scale_min, panel.scale_max) != old_scale
    if rescaled and not created and JudgeScore.objects.filter(version__dataset=dataset).exists():
        # Stored scores were normalized on the old scale (and approved versions' must not change).
        raise ValidationError({"scale_min": "Scores were already uploaded on the current scale; it cannot change."})
    panel.full_clean(exclude=["dataset", "created_by"])
    save_with_history(panel, actor, "created" if created else "changed")
    for version in DatasetVersion.objects.filter(dataset=dataset, state__in=OPEN_STATES, judging__isnull=False):
        recompute_queue(version=version, panel=panel, actor=actor)
    return panel


# Score uploads: parsing

def rows_from_csv(stream):
    """(line number, row dict) for each data line of a binary CSV stream (header on line 1)."""
    try:
        reader = csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        extra = [c for c in header if c not in COLUMNS]
        if missing or extra:
            problems = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
                [f"unknown column(s) {', '.join(extra)}"] if extra else [])
            raise ValidationError({"file": f"line 1: {'; '.join(problems)} (columns: {', '.join(COLUMNS)})."})
        return [(f"line {reader.line_num}", row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValidationError({"file": f"Not a readable UTF-8 CSV file: {error}."}) from None


def rows_from_json(items):
    """(position, row dict) for a JSON list of score objects."""
    if not isinstance(items, list):
        raise ValidationError({"rows": "Must be a list of {example, judge, score, rationale} objects."})
    return [(f"row {i}", item) for i, item in enumerate(items, start=1)]


def _example_lookup(version):
    """Maps ordinal -> example id and content hash -> [example ids] for the version
    (one pass over it: no IN list that outgrows SQLite's parameter limit)."""
    by_ordinal, by_hash = {}, {}
    rows = Example.objects.filter(version=version).values_list("pk", "ordinal", "content_hash")
    for pk, ordinal, content_hash in rows.iterator(chunk_size=5000):
        by_ordinal[ordinal] = pk
        by_hash.setdefault(content_hash, []).append(pk)
    return by_ordinal, by_hash


def _parse_score(value, panel):
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("score is missing or not a number")
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"score {value!r} is not a number") from None
    if not math.isfinite(score):
        raise ValueError(f"score {value!r} is not a finite number")
    if not panel.scale_min <= score <= panel.scale_max:
        raise ValueError(f"score {score:g} is outside the panel's scale {panel.scale_min:g} to {panel.scale_max:g}")
    return score


def _validate_rows(version, panel, rows):
    """Every row checked before anything is written; returns the parsed rows
    [(example_id, judge, raw, rationale)] or raises naming each bad line."""
    errors, parsed, seen = [], [], {}
    by_ordinal, by_hash = _example_lookup(version)
    judges = set(panel.judges)
    for where, row in rows:
        if not isinstance(row, dict):
            errors.append(f"{where}: not an object with example, judge, score")
            continue
        problems = []
        extra = sorted(set(row) - set(COLUMNS))
        if extra:
            problems.append(f"unknown field(s) {', '.join(extra)}")
        ref = str(row.get("example", "") if row.get("example") is not None else "").strip()
        example_id = None
        if not ref:
            problems.append("example is missing (give its ordinal or content hash)")
        elif ref.isdigit():
            example_id = by_ordinal.get(int(ref))
            if example_id is None:
                problems.append(f"example {ref} is not an ordinal of {version}")
        else:
            matches = by_hash.get(ref.lower(), [])
            if len(matches) > 1:
                problems.append(f"content hash {ref[:12]}… matches {len(matches)} examples; give the ordinal")
            elif not matches:
                problems.append(f"example {ref[:64]!r} is neither an ordinal nor a content hash of {version}")
            else:
                example_id = matches[0]
        judge = row.get("judge")
        judge = judge.strip() if isinstance(judge, str) else ""
        if not judge:
            problems.append("judge is missing")
        elif judge not in judges:
            problems.append(f"judge {judge[:100]!r} is not on the panel ({', '.join(panel.judges)})")
        try:
            raw = _parse_score(row.get("score"), panel)
        except ValueError as error:
            problems.append(str(error))
            raw = None
        rationale = row.get("rationale") or ""
        if not isinstance(rationale, str) or len(rationale) > MAX_RATIONALE:
            problems.append(f"rationale must be text of at most {MAX_RATIONALE} characters")
        if example_id is not None and judge:
            first = seen.setdefault((example_id, judge), where)
            if first != where:
                problems.append(f"example {ref} is scored by {judge!r} again (first on {first})")
        if problems:
            errors.append(f"{where}: {'; '.join(problems)}")
        else:
            parsed.append((example_id, judge, raw, rationale))
    if errors:
        shown = errors[:MAX_ERRORS]
        if len(errors) > MAX_ERRORS:
            shown.append(f"… and {len(errors) - MAX_ERRORS} more bad line(s)")
        raise ValidationError({"rows": shown})
    if not parsed:
        raise ValidationError({"rows": "The upload holds no scores."})
    return parsed


# Score uploads: writing

def _lock_version(version):
    return DatasetVersion.objects.select_for_update(of=("self",)).select_related("dataset").get(pk=version.pk)


@transaction.atomic
def upload_judge_scores(*, actor, version, rows, file_name="", source="api"):
    """Store judge scores for ``version`` and recompute its review queue.

    ``rows`` is a list of (where, {example, judge, score, rationale}) from
    ``rows_from_json`` or ``rows_from_csv``. A score already stored for the
    same (example, judge) is replaced (its old value kept on the upload), so a
    re-upload of the same file changes nothing."""
    version = _lock_version(version)
    permissions.require(actor, "upload_scores", version, message=f"You may not upload judge scores for {version}.")
    _check_open(version, "a score upload")
    panel = JudgePanel.objects.filter(dataset=version.dataset).first()
    if panel is None:
        raise ValidationError({"version": f"{version.dataset} has no judge panel yet: configure one first."})
    parsed = _validate_rows(version, panel, rows)
    upload = ScoreUpload.objects.create(
        version=version, uploaded_by=actor, source=source, file_name=file_name[:255], rows=len(parsed)
    )
    stored = {
        (example_id, judge): (pk, raw, rationale)
        for pk, example_id, judge, raw, rationale in JudgeScore.objects.filter(version=version).values_list(
            "pk", "example_id", "judge", "raw_score", "rationale").iterator(chunk_size=5000)
    }
    new, changed, replaced = [], [], []
    for example_id, judge, raw, rationale in parsed:
        score = JudgeScore(version=version, example_id=example_id, judge=judge, raw_score=raw,
                           score=panel.normalize(raw), rationale=rationale, upload=upload)
        old = stored.get((example_id, judge))
        if old is None:
            new.append(score)
        elif old[1:] != (raw, rationale):
            replaced.append([example_id, judge, old[1], raw])
            changed.append(old[0])
            new.append(score)
    # A replaced score is deleted and inserted anew (much cheaper than bulk_update's
    # CASE per row); the old values are kept on the upload record.
    for start in range(0, len(changed), 5000):
        JudgeScore.objects.filter(pk__in=changed[start:start + 5000]).delete()
    JudgeScore.objects.bulk_create(new, batch_size=2000)
    upload.created, upload.replaced = len(new) - len(changed), len(changed)
    upload.unchanged = len(parsed) - len(new)
    upload.replaced_scores = replaced
    upload.queue = recompute_queue(version=version, panel=panel, actor=actor)
    upload.save()
    return upload


def in_calibration_sample(panel, ordinal, content_hash):
    """A seeded coin per example, independent of upload order: the same
    example is always in (or out of) the sample for a given seed and rate."""
    digest = hashlib.sha256(f"{panel.seed}:{ordinal}:{content_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < panel.calibration_rate


def _judge_examples(version, panel):
    """{example_id: (ordinal, content_hash, [scores])} from the stored scores."""
    scored = {}
    rows = JudgeScore.objects.filter(version=version, judge__in=panel.judges).values_list(
        "example_id", "example__ordinal", "example__content_hash", "score"
    )
    for example_id, ordinal, content_hash, score in rows.iterator(chunk_size=5000):
        scored.setdefault(example_id, (ordinal, content_hash, []))[2].append(score)
    return scored


def _wanted_items(version, panel):
    """(what the queue should hold {(example_id, reason): fields}, counts)."""
    wanted = {}
    counts = {"scored": 0, "complete": 0, "disagreements": 0, "auto_accepted": 0, "auto_rejected": 0,
              "calibration_sampled": 0}
    panel_size = len(panel.judges)
    for example_id, (ordinal, content_hash, scores) in _judge_examples(version, panel).items():
        counts["scored"] += 1
        spread, mean = max(scores) - min(scores), sum(scores) / len(scores)
        complete = len(scores) == panel_size
        counts["complete"] += complete
        figures = {"spread": spread, "mean_score": mean}
        if len(scores) > 1 and spread > panel.disagreement_threshold:
            counts["disagreements"] += 1
            wanted[(example_id, ReviewReason.DISAGREEMENT)] = {**figures, "auto_decision": ""}
        elif complete:
            auto = AutoDecision.ACCEPT if mean >= panel.accept_threshold else AutoDecision.REJECT
            counts[f"auto_{auto}ed"] += 1
            if in_calibration_sample(panel, ordinal, content_hash):
                counts["calibration_sampled"] += 1
                wanted[(example_id, ReviewReason.CALIBRATION)] = {**figures, "auto_decision": auto}
    return wanted, counts


def _panel_snapshot(panel):
    return {name: getattr(panel, name) for name in PANEL_FIELDS}


def recompute_queue(*, version, panel, actor):
    """Bring the version's review items in line with its scores: add the
    missing ones (with history), refresh the figures of open ones, and withdraw
    open ones whose reason no longer holds (a judge re-scored). Decided items
    are evidence and stay. Runs inside the caller's transaction."""
    wanted, counts = _wanted_items(version, panel)
    existing = {(item.example_id, item.reason): item for item in ReviewItem.objects.filter(version=version)}
    created = [
        ReviewItem(version=version, example_id=example_id, reason=reason, **fields)
        for (example_id, reason), fields in wanted.items() if (example_id, reason) not in existing
    ]
    bulk_create_with_history(created, ReviewItem, batch_size=2000, default_user=actor,
                             default_change_reason="queued by a score upload")
    refreshed, withdrawn = [], 0
    for key, item in existing.items():
        if not item.is_open:
            continue
        if key not in wanted:
            item._history_user, item._change_reason = actor, "withdrawn: the judges' scores changed"
            item.delete()
            withdrawn += 1
        elif any(getattr(item, name) != value for name, value in wanted[key].items()):
            for name, value in wanted[key].items():
                setattr(item, name, value)
            refreshed.append(item)
    # Derived figures only (no decision changes): no history rows needed.
    ReviewItem.objects.bulk_update(refreshed, ["spread", "mean_score", "auto_decision"], batch_size=2000)
    VersionJudging.objects.update_or_create(version=version, defaults={
        **counts, "examples": Example.objects.filter(version=version).count(), "panel": _panel_snapshot(panel),
    })
    open_items = ReviewItem.objects.filter(version=version, decision="")
    return {
        "created": len(created), "withdrawn": withdrawn,
        "open_disagreements": open_items.filter(reason=ReviewReason.DISAGREEMENT).count(),
        "open_calibration": open_items.filter(reason=ReviewReason.CALIBRATION).count(),
        **counts,
    }


# Human decisions

def _check_reviewer(actor, version):
    """Separation of duties: the governance reviewers of the dataset's tenant
    decide; whoever created the version (and its judge pipeline) may not."""
    permissions.require(actor, "review_examples", version, message=(
        f"Only governance reviewers of {version.dataset.tenant.slug} record review decisions."))
    if version.created_by_id == actor.pk:
        raise PermissionDenied("You created this version; someone else must review its examples.")


def _clean_decision(item, decision, label_correct, corrected_label):
    if decision not in HumanDecision.values:
        raise ValidationError({"decision": f"Choose one of {', '.join(HumanDecision.values)}."})
    corrected_label = (corrected_label or "").strip()
    if decision == HumanDecision.RELABEL:
        if not corrected_label:
            raise ValidationError({"corrected_label": "A relabel needs the corrected label."})
        if corrected_label == item.example.label:
            raise ValidationError({"corrected_label": f"The example is already labeled {corrected_label!r}."})
        if len(corrected_label) > 200:
            raise ValidationError({"corrected_label": "At most 200 characters."})
        if label_correct:
            raise ValidationError({"label_correct": "A relabel says the label was wrong."})
        return False, corrected_label
    if corrected_label:
        raise ValidationError({"corrected_label": "Only a relabel carries a corrected label."})
    if decision == HumanDecision.ACCEPT:
        if label_correct is False:
            raise ValidationError({"label_correct": "To keep an example whose label is wrong, relabel it."})
        return True, ""
    return label_correct, ""


@transaction.atomic
def decide_review_item(*, actor, item, decision, label_correct=None, corrected_label="", comment="",
                       override=False):
    """Record a reviewer's decision on one queued example. A decided item is
    changed only with ``override`` and a comment saying why (kept in history)."""
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related(
        "example", "version__dataset__tenant", "reviewer"
    ).get(pk=item.pk)
    _check_reviewer(actor, item.version)
    _check_open(item.version, "a review decision")
    comment = (comment or "").strip()
    if item.decision:
        if not override:
            raise Conflict(
                f"Already decided ({item.get_decision_display().lower()}) by {item.reviewer} on "
                f"{item.decided_at:%Y-%m-%d %H:%M}; override it explicitly, with a comment.",
                code="already_decided",
            )
        if not comment:
            raise ValidationError({"comment": "Say why the earlier decision is overridden."})
    label_correct, corrected_label = _clean_decision(item, decision, label_correct, corrected_label)
    overriding = bool(item.decision)
    item.decision, item.label_correct, item.corrected_label = decision, label_correct, corrected_label
    item.comment, item.reviewer, item.decided_at = comment, actor, timezone.now()
    save_with_history(item, actor, "overridden" if overriding else "decided")
    audit.record(actor=actor, action="review.overridden" if overriding else "review.decided", obj=item,
                 tenant=item.version.dataset.tenant, label=f"{item.version} #{item.example.ordinal}",
                 detail=decision + (f" as {corrected_label!r}" if corrected_label else "") + (f": {comment}" if comment else ""))
    return item
