"""Streaming readers: each yields ``(row, record, problem)`` where ``row`` is the
line number (JSONL, CSV: the line the record starts on, the header being line 1)
or the row number from 1 (Parquet), ``record`` a dict of fields (None when the
row could not be read) and ``problem`` a ``(field, message)`` pair or None.
A problem that makes the whole file unreadable raises ``Unreadable``."""
import codecs
import csv
import json
import re

MAX_LINE_BYTES = 1024 * 1024
PARQUET_BATCH_ROWS = 8192
# A JSON \u escape of a lone surrogate decodes to a str that is not valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class Unreadable(Exception):
    """The file as a whole cannot be read (not Parquet, a bad CSV header...)."""

    def __init__(self, row, field, message):
        super().__init__(f"{row}: {field}: {message}")
        self.row, self.field, self.message = row, field, message


def _physical_lines(stream):
    """Binary lines, each capped at MAX_LINE_BYTES: an overlong line is yielded
    as None (and skipped to its end) rather than read into memory."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_LINE_BYTES)
            yield None
        else:
            yield line


def _decode(raw):
    """(text, problem) for one binary line."""
    if raw is None:
        return None, ("line", f"longer than {MAX_LINE_BYTES:,} bytes")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return None, ("line", f"invalid UTF-8 at byte {error.start + 1}")


def _surrogate_problem(text):
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        return ("line", "invalid UTF-8: a \\u escape of a lone surrogate")
    return None


def jsonl_records(path, **_columns):
    with open(path, "rb") as stream:
        for number, raw in enumerate(_physical_lines(stream), 1):
            text, problem = _decode(raw)
            if text is not None and not text.strip():
                continue
            problem = problem or _surrogate_problem(text)
            if problem:
                yield number, None, problem
                continue
            try:
                record = json.loads(text)
            except ValueError as error:
                yield number, None, ("line", f"broken JSON: {getattr(error, 'msg', error)} "
                                             f"(column {getattr(error, 'colno', '?')})")
                continue
            if not isinstance(record, dict):
                yield number, None, ("line", "not a JSON object")
                continue
            yield number, record, None


def check_columns(columns, known_fields, required):
    """A CSV header or Parquet schema must name every required field, nothing unknown, nothing twice."""
    for name in columns:
        if name not in known_fields:
            raise Unreadable(1, name, "unknown column")
    if len(set(columns)) != len(columns):
        raise Unreadable(1, "header", "a column is named twice")
    for name in required:
        if name not in columns:
            raise Unreadable(1, name, "missing column")


def csv_records(path, *, known_fields, required):
    """CSV with a header row naming the fields. Cells are strings; the row
    validator converts them. A multi-line quoted cell is one record."""
    problems = []

    def decoded_lines(stream):
        for number, raw in enumerate(_physical_lines(stream), 1):
            text, problem = _decode(raw)
            if problem:
                problems.append((number, problem))
                text = "\n" if raw is None else raw.decode("utf-8", errors="replace")
            yield text

    with open(path, "rb") as stream:
        if stream.read(3) != codecs.BOM_UTF8:
            stream.seek(0)
        reader = csv.reader(decoded_lines(stream), strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise Unreadable(1, "header", f"unreadable CSV header: {error}") from None
        check_columns(header, known_fields, required)
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                yield start, None, ("line", f"broken CSV: {error}")
                return
            end = reader.line_num
            for number, problem in problems:
                yield number, None, problem
            bad = bool(problems)
            problems.clear()
            if cells and not bad:
                if len(cells) != len(header):
                    yield start, None, ("line", f"{len(cells)} cells for {len(header)} columns")
                else:
                    yield start, dict(zip(header, cells)), None
            start = end + 1
        for number, problem in problems:
            yield number, None, problem


def parquet_records(path, *, known_fields, required):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise Unreadable(1, "file", f"not a readable Parquet file: {error}") from None
    check_columns(parquet.schema_arrow.names, known_fields, required)
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        try:
            records = batch.to_pylist()
        except UnicodeDecodeError:
            for _ in range(batch.num_rows):
                number += 1
                yield number, None, ("row", "invalid UTF-8 in a string column")
            continue
        for record in records:
            number += 1
            yield number, record, None


def count_rows(path, fmt):
    """Rows in the file, for progress: exact for JSONL (non-blank lines) and
    Parquet, physical lines minus the header for CSV."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:
            return None
    lines = 0
    with open(path, "rb") as stream:
        last = b"\n"
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return max(lines - (fmt == "csv"), 0)
