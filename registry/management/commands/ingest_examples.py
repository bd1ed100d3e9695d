"""Register a version's examples from a file, with a progress bar.

    python manage.py ingest_examples rare-intents-synthetic 2 tickets.jsonl [--format csv] [--actor carl]

The whole file is written, or nothing: on any bad row the command lists the
first 100 errors (line/row, field, message) with the total and exits 1.
"""
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from registry import services
from registry.errors import Conflict
from registry.models import DatasetVersion, IngestionStatus


class Command(BaseCommand):
    help = "Ingest examples (JSON Lines, CSV or Parquet) into a draft version; all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("dataset", help="Dataset slug.")
        parser.add_argument("version", type=int, help="Version number (a draft).")
        parser.add_argument("file", help="Path of the file to ingest.")
        parser.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="Default: from the file name.")
        parser.add_argument("--actor", help="Username the ingestion is recorded for (default: the version's creator).")

    def handle(self, *args, **options):
        try:
            version = DatasetVersion.objects.select_related("dataset", "created_by").get(
                dataset__slug=options["dataset"], number=options["version"]
            )
        except DatasetVersion.DoesNotExist:
            raise CommandError(f"No version {options['version']} of dataset {options['dataset']!r}.") from None
        actor = version.created_by
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {options['actor']!r}.")
        try:
            job = services.register_examples_file(
                actor=actor, version=version, path=options["file"], format=options["format"]
            )
        except (ValidationError, PermissionDenied, Conflict) as error:
            raise CommandError(getattr(error, "message", None) or "; ".join(getattr(error, "messages", [str(error)])))
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
