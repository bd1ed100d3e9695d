"""Format / schema: the checks any example must pass before the others look at it."""
import numbers

from gates.base import Param, Reject, gate


def _problems(text, label, data, ctx, allowed):
    """(check, message, evidence) for each way one example breaks the format."""
    p = ctx.params
    found = []
    if not text or not text.strip():
        found.append(("empty", "content is empty", {}))
    elif len(text) < p["min_chars"]:
        found.append(("min_chars", f"content has {len(text)} characters, fewer than {p['min_chars']}",
                      {"chars": len(text), "limit": p["min_chars"]}))
    if len(text or "") > p["max_chars"]:
        found.append(("max_chars", f"content has {len(text)} characters, more than {p['max_chars']}",
                      {"chars": len(text), "limit": p["max_chars"]}))
    if not label and p["require_label"]:
        found.append(("label", "label is missing", {}))
    elif label and allowed and label not in allowed:
        found.append(("label", f"label {label!r} is not allowed", {"label": label}))
    if ctx.modality == "tabular":
        if not isinstance(data, dict):
            found.append(("columns", "row has no columns", {}))
            return found
        missing = [c for c in p["required_columns"] if data.get(c) in (None, "")]
        if missing:
            found.append(("required_columns", f"missing required column(s) {', '.join(map(str, missing))}",
                          {"columns": missing}))
        not_numbers = [
            c for c in p["numeric_columns"]
            if data.get(c) is not None and (isinstance(data[c], bool) or not isinstance(data[c], numbers.Number))
        ]
        if not_numbers:
            found.append(("numeric_columns", f"column(s) {', '.join(map(str, not_numbers))} must be numbers",
                          {"columns": not_numbers}))
    return found


@gate(
    "format",
    "Format / schema",
    params={
        "min_chars": Param(1, 0, 1_000_000),
        "max_chars": Param(20_000, 1, 10_000_000),
        "require_label": Param(False),
        # Labels accepted beside those of the real anchor; with neither, any label passes.
        "allowed_labels": Param([]),
        # Tabular only: columns every row must fill, and columns that must hold numbers.
        "required_columns": Param([]),
        "numeric_columns": Param([]),
    },
)
def format_gate(ctx):
    allowed = set(ctx.allowed_labels) | {str(label) for label in ctx.params["allowed_labels"]}
    data = ctx.pool.data or [None] * len(ctx.pool)
    rejects = []
    for index, (text, label, row) in enumerate(zip(ctx.pool.texts, ctx.pool.labels, data)):
        problems = _problems(text, label, row, ctx, allowed)
        if problems:
            reason = "; ".join(message for _, message, _ in problems)
            rejects.append(Reject(
                index=index,
                reason=reason[0].upper() + reason[1:] + ".",
                details={"problems": [{"check": check, **evidence} for check, _, evidence in problems]},
            ))
    return rejects
