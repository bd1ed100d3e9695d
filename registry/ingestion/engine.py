"""Run one IngestionJob: read, validate, write, aggregate; all of it or nothing.

The rows, the version's stored aggregates (VersionLineage) and the job's
"succeeded" commit in one transaction, with the version row locked so no state
change or second upload interleaves. Any bad row refuses the whole upload: the
job records the first 100 errors (row, field, message) and the total, and no
example is written. Progress (rows processed) is written on a separate
connection so pollers see it while the transaction is still open.
"""
import time

from django.db.models import Max
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from registry import audit
from registry.choices import Modality, Origin
from registry.errors import Conflict
from registry.models import DatasetVersion, Example, IngestionJob, IngestionStatus, VersionLineage

from . import readers
from .rows import FIELDS, RowValidator, load_lookups
from .writers import CopyWriter, DuplicateContent, StagingTable

MAX_ERRORS = 100
READERS = {"jsonl": readers.jsonl_records, "csv": readers.csv_records, "parquet": readers.parquet_records}


class Refused(Exception):
    """The upload is refused; ``errors`` holds the first MAX_ERRORS, ``total`` all."""

    def __init__(self, errors, total):
        super().__init__(f"{total} error(s)")
        self.errors, self.total = errors, total


class Errors:
    def __init__(self):
        self.items, self.total = [], 0

    def add(self, row, field, message):
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append({"row": row, "field": field, "message": message})

    def refuse_if_any(self):
        if self.total:
            raise Refused(self.items, self.total)


class Tally:
    """Aggregates of the rows written, merged into VersionLineage on commit."""

    COUNTERS = ("by_origin", "by_generator", "by_template", "by_intended_use", "by_label", "by_flag")

    def __init__(self):
        self.total = self.synthetic = self.synthetic_complete = self.prompt_hash_only = 0
        for name in self.COUNTERS:
            setattr(self, name, {})

    @staticmethod
    def _bump(counter, key):
        counter[key] = counter.get(key, 0) + 1

    def add(self, values, complete):
        _, _, _, label, origin, generator_id, template_id, _, _, _, _, intended_use, eval_exclusion, never_train = values
        self.total += 1
        self._bump(self.by_origin, origin)
        self._bump(self.by_label, label)
        if intended_use:
            self._bump(self.by_intended_use, intended_use)
        if generator_id:
            self._bump(self.by_generator, str(generator_id))
        if template_id:
            self._bump(self.by_template, str(template_id))
        if eval_exclusion:
            self._bump(self.by_flag, "eval_exclusion")
        if never_train:
            self._bump(self.by_flag, "never_train_on")
        if origin == Origin.SYNTHETIC:
            self.synthetic += 1
            self.synthetic_complete += complete
            self.prompt_hash_only += template_id is None

    def merge_into(self, lineage):
        for name in ("total", "synthetic", "synthetic_complete", "prompt_hash_only"):
            setattr(lineage, name, getattr(lineage, name) + getattr(self, name))
        for name in self.COUNTERS:
            merged = dict(getattr(lineage, name))
            for key, count in getattr(self, name).items():
                merged[key] = merged.get(key, 0) + count
            setattr(lineage, name, dict(sorted(merged.items())))


class Progress:
    """Writes rows_processed at most twice a second on its own connection, so
    pollers see it while the ingestion's transaction is open. When the caller
    already holds a transaction (a test, the demo loader), nobody else could see
    the row anyway and the ingestion's own connection may be busy with a COPY,
    so only the listener (the CLI's progress bar) is told."""

    INTERVAL = 0.5

    def __init__(self, job_id, listener=None):
        self.job_id, self.listener = job_id, listener
        self.side = None if connection.in_atomic_block else connections.create_connection(DEFAULT_DB_ALIAS)
        self.last = 0.0

    def __call__(self, processed, force=False):
        if self.listener:
            self.listener(processed)
        now = time.monotonic()
        if self.side is not None and (force or now - self.last >= self.INTERVAL):
            self.last = now
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {IngestionJob._meta.db_table} SET rows_processed = %s WHERE id = %s",
                    [processed, self.job_id],
                )

    def close(self):
        if self.side is not None:
            self.side.close()


def _records(job, tabular):
    content = "data" if tabular else "text"
    return READERS[job.format](job.path, known_fields=FIELDS, required=("origin", content))


def _validated_rows(job, validator, errors, tabular, progress):
    """Yield (line, values, complete) for valid rows while no error has been
    found; after the first error keep reading only to list and count errors."""
    processed = 0
    for row, record, problem in _records(job, tabular):
        processed += 1
        if processed % 1000 == 0:
            progress(processed)
        if problem:
            errors.add(row, *problem)
            continue
        values, row_errors, complete = validator.validate(record)
        for field, message in row_errors:
            errors.add(row, field, message)
        if not errors.total:
            yield row, values, complete
    progress(processed, force=True)
    job.rows_processed = processed


def _lock_draft(version_id):
    version = DatasetVersion.objects.select_for_update(of=("self",)).select_related("manifest").get(pk=version_id)
    if not version.is_mutable:
        raise Conflict(f"{version} is {version.get_state_display().lower()}; only drafts accept examples.",
                       code="version_immutable")
    return version


def _finish(job, version, tally, written, duplicates):
    """Inside the writing transaction: aggregates, then the job's success."""
    lineage, _ = VersionLineage.objects.select_for_update().get_or_create(version=version)
    tally.merge_into(lineage)
    lineage.save()
    locked = IngestionJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != IngestionStatus.RUNNING:
        # A redelivered task already finished this job: write nothing twice.
        raise Conflict(f"ingestion #{job.pk} is already {locked.status}.", code="job_finished")
    job.status = IngestionStatus.SUCCEEDED
    job.rows_written = written
    job.counts = {"rows": written, "synthetic": tally.synthetic, "real": tally.by_origin.get(Origin.REAL, 0),
                  "synthetic_complete": tally.synthetic_complete, "duplicates": duplicates}
    job.finished_at = timezone.now()
    job._history_user = job.created_by
    job.save()
    audit.record(actor=job.created_by, action="ingestion.succeeded", obj=job, tenant=version.dataset.tenant,
                 detail=f"{job.file_name}: {written} row(s) into {version}", data={"file_sha256": job.file_sha256})


def _first_ordinal(version):
    # The (version, ordinal) unique index answers this with one backward step.
    last = Example.objects.filter(version=version).aggregate(last=Max("ordinal"))["last"]
    return (last or 0) + 1


def _copy_path(job, validator, tabular, progress):
    """PostgreSQL without allowed duplicates: one transaction, COPY straight in."""
    errors, tally = Errors(), Tally()
    with transaction.atomic():
        version = _lock_draft(job.version_id)
        first = _first_ordinal(version)
        with CopyWriter(connection, version.pk, first) as writer:
            for line, values, complete in _validated_rows(job, validator, errors, tabular, progress):
                writer.write(line, values)
                tally.add(values, complete)
            errors.refuse_if_any()
        _finish(job, version, tally, tally.total, duplicates=0)


def _staging_path(job, validator, tabular, progress):
    errors, tally = Errors(), Tally()
    with StagingTable(connection, job.pk) as staging:
        for line, values, complete in _validated_rows(job, validator, errors, tabular, progress):
            staging.write(line, values)
            tally.add(values, complete)
        errors.refuse_if_any()
        staging.close_input()
        with transaction.atomic():
            version = _lock_draft(job.version_id)
            first = _first_ordinal(version)
            has_rows = first > 1
            if not version.manifest.allow_duplicates:
                found, total = staging.duplicates(version.pk, version_has_rows=has_rows, limit=MAX_ERRORS)
                if total:
                    field = "data" if tabular else "text"
                    raise Refused([{"row": line, "field": field, "message": message} for line, message in found],
                                  total)
            duplicates = staging.insert(version.pk, first, version_has_rows=has_rows)
            _finish(job, version, tally, tally.total, duplicates=duplicates)


def ingest(job, *, listener=None):
    """Run ``job`` (already claimed: status running). Raises Refused, Conflict
    or readers.Unreadable; the caller records the failure."""
    version = DatasetVersion.objects.select_related("dataset", "manifest__real_anchor").get(pk=job.version_id)
    if not version.is_mutable:
        _lock_draft(version.pk)
    tabular = version.dataset.modality == Modality.TABULAR
    validator = RowValidator(
        lookups=load_lookups(version), tabular=tabular, cells_are_text=job.format == "csv",
        json_as_text=job.format != "jsonl", eval_exclusion=version.manifest.eval_exclusion,
        never_train_on=version.manifest.never_train_on,
    )
    progress = Progress(job.pk, listener)
    try:
        if connection.vendor == "postgresql" and not version.manifest.allow_duplicates:
            try:
                return _copy_path(job, validator, tabular, progress)
            except DuplicateContent:
                pass  # re-read through staging, which names every duplicate by line
        return _staging_path(job, validator, tabular, progress)
    finally:
        progress.close()
