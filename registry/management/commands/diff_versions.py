"""Print the reviewable diff between two versions of a dataset.

    python manage.py diff_versions rare-intents-synthetic 1 2 [--json]
"""
import json

from django.core.management.base import BaseCommand, CommandError

from registry.diff import version_diff
from registry.models import DatasetVersion


class Command(BaseCommand):
    help = "Diff two versions: manifest fields, examples added/removed/unchanged, labels, generators, templates."

    def add_arguments(self, parser):
        parser.add_argument("dataset")
        parser.add_argument("old", type=int, help="Older version number.")
        parser.add_argument("new", type=int, help="Newer version number.")
        parser.add_argument("--json", action="store_true", help="Print the diff as JSON (as the API returns it).")

    def _version(self, slug, number):
        try:
            return DatasetVersion.objects.select_related("manifest", "dataset").get(dataset__slug=slug, number=number)
        except DatasetVersion.DoesNotExist:
            raise CommandError(f"No version {number} of dataset {slug!r}.") from None

    def handle(self, *args, **options):
        old = self._version(options["dataset"], options["old"])
        new = self._version(options["dataset"], options["new"])
        diff = version_diff(old, new)
        if options["json"]:
            self.stdout.write(json.dumps(diff, indent=2, default=str))
            return
        write = self.stdout.write
        examples = diff["examples"]
        write(f"{old} -> {new}")
        write(f"examples: +{examples['added']} added, -{examples['removed']} removed, {examples['unchanged']} unchanged "
              f"(by content hash), {examples['relabeled']} relabeled; {examples['old_total']} -> {examples['new_total']} rows")
        write("manifest:" if diff["manifest_changes"] else "manifest: unchanged")
        for change in diff["manifest_changes"]:
            write(f"  {change['field']}: {change['old']!r} -> {change['new']!r}")
        for section in ("labels", "origins", "generators", "templates"):
            changed = [row for row in diff[section] if row["delta"]]
            write(f"{section}:" if changed else f"{section}: unchanged")
            for row in changed:
                write(f"  {row['key'] or '(none)'}: {row['old']} -> {row['new']} ({row['delta']:+d})")
