"""Where validated rows go.

``CopyWriter`` (PostgreSQL, the fast path): psycopg 3 ``COPY registry_example
FROM STDIN`` inside the caller's transaction, straight into the real table with
its constraints, indexes and triggers. The client validates the next rows while
the server inserts the previous ones. A second copy of a content hash makes the
UNIQUE index abort the COPY; the engine then re-runs the file through the
staging path, which names every duplicate by line.

``StagingTable`` (SQLite, and manifests that allow duplicates): rows go to a
session-private TEMP table (no lock on the registry's tables, so a killed
process leaves nothing), then one set-based step checks duplicates and runs a
single ``INSERT ... SELECT`` numbering allowed duplicates with ROW_NUMBER().
"""
from registry.models import Example

from .rows import ROW_COLUMNS

TABLE = Example._meta.db_table
INSERT_COLUMNS = ("version_id", "ordinal", "dup_rank", *ROW_COLUMNS)
BATCH_ROWS = 5000


class DuplicateContent(Exception):
    """The COPY hit UNIQUE (version, content_hash, dup_rank)."""


class CopyWriter:
    def __init__(self, connection, version_id, first_ordinal):
        self.connection = connection
        self.prefix = (version_id,)
        self.ordinal = first_ordinal

    def __enter__(self):
        self.cursor = self.connection.cursor()
        self.copy_context = self.cursor.cursor.copy(f"COPY {TABLE} ({', '.join(INSERT_COLUMNS)}) FROM STDIN")
        self.copy = self.copy_context.__enter__()
        return self

    def write(self, line, values):
        self.copy.write_row((*self.prefix, self.ordinal, 0, *values))
        self.ordinal += 1

    def __exit__(self, exc_type, exc, traceback):
        import psycopg

        try:
            # An exception here sends CopyFail: the server discards what it got.
            self.copy_context.__exit__(exc_type, exc, traceback)
        except psycopg.errors.UniqueViolation as error:
            if error.diag.constraint_name == "example_unique_content":
                raise DuplicateContent() from error
            raise
        finally:
            self.cursor.close()


def _staging_columns(vendor):
    json_type = "jsonb" if vendor == "postgresql" else "text"
    types = {
        "text": "text", "data": json_type, "content_hash": "varchar(64)", "label": "varchar(200)",
        "origin": "varchar(16)", "generator_id": "bigint", "prompt_template_id": "bigint", "prompt_hash": "varchar(64)",
        "seed_example_id": "bigint", "seed_external_id": "varchar(200)", "sampling_params": json_type,
        "intended_use": "varchar(32)", "eval_exclusion": "boolean", "never_train_on": "boolean",
    }
    # pos is the rowid on SQLite, so reading in file order needs no sort.
    pos = "pos integer" if vendor == "postgresql" else "pos integer primary key"
    return ", ".join([pos, "line integer", *(f"{name} {types[name]}" for name in ROW_COLUMNS)])


class StagingTable:
    """A TEMP table of this ingestion's rows: ``pos`` numbers them from 0 in file
    order, ``line`` is where each came from (for error messages)."""

    def __init__(self, connection, job_id):
        self.connection = connection
        # ``connection`` is usually Django's thread-local proxy: read its vendor once, not per row.
        self.postgres = connection.vendor == "postgresql"
        self.name = f"ingest_staging_{job_id}"
        self.pos = 0
        self.buffer = []

    def __enter__(self):
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            cursor.execute(f"CREATE TEMP TABLE {self.name} ({_staging_columns(self.connection.vendor)})")
        if self.postgres:
            self.cursor = self.connection.cursor()
            self.copy_context = self.cursor.cursor.copy(
                f"COPY {self.name} (pos, line, {', '.join(ROW_COLUMNS)}) FROM STDIN"
            )
            self.copy = self.copy_context.__enter__()
        return self

    def write(self, line, values):
        row = (self.pos, line, *values)
        self.pos += 1
        if self.postgres:
            self.copy.write_row(row)
            return
        self.buffer.append(row)
        if len(self.buffer) >= BATCH_ROWS:
            self._flush()

    def _flush(self):
        # The sqlite3 cursor itself: no per-row parameter conversion for a private temp table.
        placeholders = ", ".join(["?"] * (len(ROW_COLUMNS) + 2))
        self.connection.ensure_connection()
        self.connection.connection.executemany(f"INSERT INTO {self.name} VALUES ({placeholders})", self.buffer)
        self.buffer = []

    def close_input(self):
        """Everything is written: end the COPY (PostgreSQL) or flush the last batch."""
        if self.postgres:
            self.copy_context.__exit__(None, None, None)
            self.cursor.close()
        elif self.buffer:
            self._flush()

    def __exit__(self, exc_type, exc, traceback):
        if self.postgres and not self.cursor.closed:
            try:
                self.copy_context.__exit__(exc_type, exc, traceback)
            finally:
                self.cursor.close()
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")

    def duplicates(self, version_id, *, version_has_rows, limit):
        """(rows, total): rows repeating content seen earlier in the file or
        already in the version, as (line, message), in file order."""
        within = f"""
            SELECT s.line AS line, 'exact duplicate of line ' || CAST(d.first_line AS TEXT) AS message, s.pos AS pos
            FROM {self.name} s JOIN (
                SELECT content_hash, MIN(pos) AS first_pos, MIN(line) AS first_line
                FROM {self.name} GROUP BY content_hash HAVING COUNT(*) > 1
            ) d ON d.content_hash = s.content_hash AND s.pos > d.first_pos"""
        queries = [within]
        params = []
        if version_has_rows:
            queries.append(f"""
                SELECT s.line, 'already in this version as example #' || CAST(e.ordinal AS TEXT), s.pos
                FROM {self.name} s JOIN {TABLE} e
                  ON e.version_id = %s AND e.content_hash = s.content_hash AND e.dup_rank = 0""")
            params.append(version_id)
        union = " UNION ALL ".join(queries)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({union}) AS found", params)
            total = cursor.fetchone()[0]
            cursor.execute(f"SELECT line, message FROM ({union}) AS found ORDER BY pos LIMIT {int(limit)}", params)
            return cursor.fetchall(), total

    def insert(self, version_id, first_ordinal, *, version_has_rows):
        """Move every staged row into the version in one statement; allowed
        duplicates get dup_rank 1, 2, ... after any copy already stored.
        Returns how many rows repeat earlier content."""
        rank = "ROW_NUMBER() OVER (PARTITION BY s.content_hash ORDER BY s.pos) - 1"
        join = ""
        params = [version_id, first_ordinal]
        if version_has_rows:
            rank += " + COALESCE(x.next_rank, 0)"
            join = (f"LEFT JOIN (SELECT content_hash, MAX(dup_rank) + 1 AS next_rank FROM {TABLE} "
                    "WHERE version_id = %s GROUP BY content_hash) x ON x.content_hash = s.content_hash")
            params.append(version_id)
        selected = ", ".join(f"s.{name}" for name in ROW_COLUMNS)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} ({', '.join(INSERT_COLUMNS)}) "
                f"SELECT %s, %s + s.pos, {rank}, {selected} FROM {self.name} s {join} ORDER BY s.pos",
                params,
            )
            cursor.execute(
                f"SELECT COUNT(*) FROM {TABLE} WHERE version_id = %s AND ordinal >= %s AND dup_rank > 0",
                [version_id, first_ordinal],
            )
            return cursor.fetchone()[0]
