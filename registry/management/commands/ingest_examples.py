"""Register a version's examples from a file, with a progress bar.

    python manage.py ingest_examples rare-intents-synthetic 2 tickets.jsonl [--format csv] [--actor carl]

The whole file is written, or nothing: on any bad row the command lists the
first 100 errors (line/row, field, message) with the total and exits 1.
"""
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand
from tqdm import tqdm

from registry import services
from registry.cli import add_actor_argument, add_version_arguments, refusal, version_and_actor
from registry.errors import Conflict
from registry.models import IngestionStatus


class Command(BaseCommand):
    help = "Ingest examples (JSON Lines, CSV or Parquet) into a draft version; all rows or none."

    def add_arguments(self, parser):
        add_version_arguments(parser, "Version number (a draft).")
        parser.add_argument("file", help="Path of the file to ingest.")
        parser.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="Default: from the file name.")
        add_actor_argument(parser, "the ingestion")

    def handle(self, *args, **options):
        version, actor = version_and_actor(options)
        try:
            job = services.register_examples_file(
                actor=actor, version=version, path=options["file"], format=options["format"]
            )
        except (ValidationError, PermissionDenied, Conflict) as error:
            raise refusal(error) from None
        with tqdm(total=None, unit=" rows", desc=f"{version}", file=self.stderr._out, mininterval=0.2) as bar:
            def advance(processed):
                bar.update(processed - bar.n)

            job = services.run_ingestion(job_id=job.pk, listener=advance)
            bar.total = job.rows_processed
            bar.update(job.rows_processed - bar.n)
        if job.status != IngestionStatus.SUCCEEDED:
            self.stderr.write(self.style.ERROR(
                f"Refused: {job.error_count} error(s); nothing was written (ingestion #{job.pk})."
            ))
            where = "row" if job.format == "parquet" else "line"
            for error in job.errors:
                self.stderr.write(f"  {where} {error['row']}: {error['field']}: {error['message']}")
            if job.error_count > len(job.errors):
                self.stderr.write(f"  ... and {job.error_count - len(job.errors)} more")
            raise SystemExit(1)
        counts = job.counts
        self.stdout.write(self.style.SUCCESS(
            f"Ingested {job.rows_written} examples into {version} in {job.duration_seconds:.1f} s "
            f"({counts.get('synthetic', 0)} synthetic, {counts.get('real', 0)} real; ingestion #{job.pk})."
        ))
