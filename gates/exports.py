"""The reject set as CSV, streamed row by row (a run may reject 100,000 rows)."""
import csv
import io
import json

from .masking import mask_data, mask_text

HEADER = ["example_id", "ordinal", "position", "gate", "reason", "details", "label", "content_hash", "content"]


def rejection_csv(rejections, *, raw, chunk_size=2000):
    """``raw``: whether the reader sees example content unmasked (permission ``view_raw``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    rows = rejections.values_list(
        "example_id", "example__ordinal", "position", "gate", "reason", "details", "example__label",
        "example__content_hash", "example__text", "example__data",
    )
    for count, (*fields, details, label, content_hash, text, data) in enumerate(rows.iterator(chunk_size), 1):
        if not raw:
            text, data = mask_text(text), mask_data(data)
        content = json.dumps(data, ensure_ascii=False, sort_keys=True) if data is not None else text
        writer.writerow([*fields, json.dumps(details, ensure_ascii=False, sort_keys=True), label, content_hash,
                         content])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
