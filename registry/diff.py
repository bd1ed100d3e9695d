"""The reviewable diff between two versions (usually a regeneration and its
predecessor): manifest field changes, examples added / removed / unchanged by
content hash, label distribution change, generator and template changes.

Examples compare as a multiset of (content_hash, dup_rank): one join over the
UNIQUE (version, content_hash, dup_rank) index in the database, never a Python
loop over rows. Distributions come from the stored per-version aggregates.
"""
from django.db import connection
from django.db.models import Exists, OuterRef

from . import selectors
from .models import Example

SAMPLE_ROWS = 10

MATCH_SQL = f"""
    SELECT COUNT(*), COALESCE(SUM(CASE WHEN a.label <> b.label THEN 1 ELSE 0 END), 0)
    FROM {Example._meta.db_table} a
    JOIN {Example._meta.db_table} b
      ON b.version_id = %s AND b.content_hash = a.content_hash AND b.dup_rank = a.dup_rank
    WHERE a.version_id = %s
"""


def _only_in(version, other):
    """A few examples of ``version`` whose content ``other`` lacks (first found; anti-join stops early)."""
    in_other = Example.objects.filter(version=other, content_hash=OuterRef("content_hash"), dup_rank=OuterRef("dup_rank"))
    rows = (
        Example.objects.filter(version=version).exclude(Exists(in_other)).order_by()
        .values("id", "ordinal", "text", "data", "label", "origin")[:SAMPLE_ROWS]
    )
    return sorted(rows, key=lambda row: row["ordinal"])


def _changes(old_pairs, new_pairs):
    """[(key, old, new, delta)] for every key whose count differs."""
    old, new = dict(old_pairs), dict(new_pairs)
    keys = sorted(set(old) | set(new), key=lambda key: (-(new.get(key, 0) + old.get(key, 0)), key))
    return [
        {"key": key, "old": old.get(key, 0), "new": new.get(key, 0), "delta": new.get(key, 0) - old.get(key, 0)}
        for key in keys
    ]


def manifest_changes(old, new):
    before, after = old.manifest.canonical(), new.manifest.canonical()
    return [
        {"field": field, "old": before.get(field), "new": after.get(field)}
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    ]


def version_diff(old, new):
    """What changed from ``old`` to ``new``; a constant number of queries."""
    with connection.cursor() as cursor:
        cursor.execute(MATCH_SQL, [new.pk, old.pk])
        unchanged, relabeled = cursor.fetchone()
    before, after = selectors.lineage_summary(old), selectors.lineage_summary(new)
    return {
        "old": {"id": old.pk, "version": str(old), "state": old.state, "manifest_hash": old.manifest.content_hash},
        "new": {"id": new.pk, "version": str(new), "state": new.state, "manifest_hash": new.manifest.content_hash},
        "manifest_changes": manifest_changes(old, new),
        "examples": {
            "old_total": before["total"],
            "new_total": after["total"],
            "unchanged": unchanged,
            "added": after["total"] - unchanged,
            "removed": before["total"] - unchanged,
            "relabeled": relabeled,
            "added_sample": _only_in(new, old),
            "removed_sample": _only_in(old, new),
        },
        "labels": _changes(before["by_label"], after["by_label"]),
        "origins": _changes(before["by_origin"], after["by_origin"]),
        "generators": _changes(before["by_generator"], after["by_generator"]),
        "templates": _changes(before["by_template"], after["by_template"]),
        "completeness": {"old": before["completeness"], "new": after["completeness"]},
    }
