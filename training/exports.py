"""Streamed exports of a mix's selected examples with their lineage.

Both formats are produced chunk by chunk, so a million-row mix never sits in
memory: JSONL line by line, Parquet one row group per chunk.
"""
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from .selectors import mix_rows

ROW_GROUP = 5000
JSON_COLUMNS = ("data", "sampling_params")
PARQUET_SCHEMA = pa.schema([
    ("example_id", pa.int64()), ("version_id", pa.int64()), ("dataset", pa.string()), ("version", pa.int64()),
    ("ordinal", pa.int64()), ("text", pa.string()), ("data", pa.string()), ("label", pa.string()),
    ("origin", pa.string()), ("content_hash", pa.string()), ("generator", pa.string()),
    ("generator_version", pa.string()), ("prompt_template", pa.string()), ("prompt_template_version", pa.int64()),
    ("prompt_hash", pa.string()), ("seed_example_id", pa.int64()), ("seed_external_id", pa.string()),
    ("sampling_params", pa.string()), ("intended_use", pa.string()),
])


def _json_value(value):
    """JSON fields as loaded objects (SQLite may hand back their text)."""
    return json.loads(value) if isinstance(value, str) else value


def jsonl_lines(mix):
    for row in mix_rows(mix):
        for column in JSON_COLUMNS:
            row[column] = _json_value(row[column])
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


class _Drain(io.RawIOBase):
    """A write-only sink whose bytes the generator hands out after each row group."""

    def __init__(self):
        self.chunks = []

    def writable(self):
        return True

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def take(self):
        data, self.chunks = b"".join(self.chunks), []
        return data


def _table(rows):
    for row in rows:
        for column in JSON_COLUMNS:
            value = _json_value(row[column])
            row[column] = None if value is None else json.dumps(value, sort_keys=True)
    return pa.Table.from_pylist(rows, schema=PARQUET_SCHEMA)


def parquet_chunks(mix):
    sink = _Drain()
    writer = pq.ParquetWriter(sink, PARQUET_SCHEMA)
    batch = []
    for row in mix_rows(mix):
        batch.append(row)
        if len(batch) == ROW_GROUP:
            writer.write_table(_table(batch))
            batch = []
            yield sink.take()
    if batch:
        writer.write_table(_table(batch))
    writer.close()
    yield sink.take()
