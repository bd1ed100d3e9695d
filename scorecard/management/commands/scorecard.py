"""python manage.py scorecard DATASET [--version V] --use training [--format table|json]

Prints the CAREFUL scorecard; exit status 0 when no letter blocks the use,
1 when one does (so ML pipelines can call it before training), 2 for bad input."""
import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.models import DatasetVersion
from scorecard import services


class Command(BaseCommand):
    help = "The CAREFUL scorecard of a dataset version for a use. Exit 0 allowed, 1 blocked, 2 bad input."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the dataset version here, replacing Django's --version (the Django release).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("dataset", help="dataset slug")
        parser.add_argument("--version", dest="number", type=int, help="version number (default: the latest)")
        parser.add_argument("--use", required=True, help="training, evaluation, red_team, demo, privacy, software_testing")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, dataset, number, use, format, **options):
        versions = DatasetVersion.objects.filter(dataset__slug=dataset).order_by("-number")
        version = (versions.filter(number=number) if number else versions).first()
        if version is None:
            what = f"version {number} of dataset" if number else "version of dataset"
            raise CommandError(f"No {what} {dataset!r}.", returncode=2)
        try:
            scorecard = services.computed_and_recorded(version, use)
        except ValidationError as error:
            raise CommandError(" ".join(error.message_dict["use"]), returncode=2)
        if format == "json":
            self.stdout.write(json.dumps(scorecard.as_dict(), indent=2, default=str))
        else:
            self.write_table(scorecard)
        if not scorecard.allowed:
            sys.exit(1)

    def write_table(self, scorecard):
        version = scorecard.version
        self.stdout.write(f"CAREFUL scorecard of {version} for {scorecard.use} (policy: {scorecard.policy})")
        for row in scorecard.letters:
            status = str(row.status) if row.required else "-"
            mark = " BLOCKS" if row.blocking else ""
            self.stdout.write(f"{row.letter}  {status:<8}{mark:<7} {row.verdict}")
            for check in row.checks:
                self.stdout.write(f"     {str(check.status):<8} {check.code}: {check.verdict}")
        if scorecard.allowed:
            self.stdout.write(self.style.SUCCESS(f"allowed: no letter blocks {scorecard.use}"))
        else:
            self.stdout.write(self.style.ERROR(f"blocked: letter(s) {', '.join(scorecard.failing)} block {scorecard.use}"))
