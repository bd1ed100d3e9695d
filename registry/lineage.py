"""Content identity of an example: the normalization its content hash is taken of.

Two examples are *exact duplicates* when their normalized content is equal.
The normalization is deliberately conservative, so that only differences a
reader cannot see are ignored:

Text (``normalize_text``)
    1. Unicode NFC (composed and decomposed accents compare equal);
    2. every run of whitespace (as ``str.split()`` defines it: Unicode
       White_Space, including newlines, tabs and no-break spaces) becomes one
       ASCII space;
    3. leading and trailing whitespace is stripped.
    Case is kept: "REFUND NOW" and "refund now" differ in tone, which is part of
    what a support ticket says. Case-insensitive and fuzzy matches are the
    near-duplicate gate's job, not identity's.

Tabular (``canonical_data``)
    The JSON object of columns, serialized with sorted keys, no insignificant
    whitespace and UTF-8 (not \\u escapes); string values, keys included, are
    normalized as text. Numbers keep their JSON form (1 and 1.0 differ).

``content_hash`` is the SHA-256 hex digest of the UTF-8 bytes of that form.
Other apps (gates' exact dedup, training's leakage scans) import it, so every
comparison across the registry uses one definition.
"""
import hashlib
import json
import unicodedata


# One encoder for every canonical form (building one per call costs more than encoding a row).
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalize_text(text):
    """NFC, whitespace runs collapsed to one space, stripped; case kept."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _normalize_value(value):
    if isinstance(value, str):
        return normalize_text(value)
    if isinstance(value, dict):
        return {normalize_text(str(key)): _normalize_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize_value(item) for item in value]
    return value


def canonical_data(data):
    """The canonical JSON string of a tabular row (a JSON object of columns)."""
    return CANONICAL_JSON.encode(_normalize_value(data))


def content_hash(text=None, data=None):
    """SHA-256 hex of the normalized content: ``text`` for text examples,
    ``data`` (a dict of columns) for tabular ones. Exactly one must be given."""
    if (text is None) == (data is None):
        raise ValueError("content_hash() takes exactly one of text= or data=")
    form = normalize_text(text) if text is not None else canonical_data(data)
    return hashlib.sha256(form.encode("utf-8")).hexdigest()
