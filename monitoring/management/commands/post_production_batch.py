"""Post a batch of production rows to a monitor.

    python manage.py post_production_batch 12 prod-2026-11-24.parquet --actor carl
    python manage.py post_production_batch rare-intents-synthetic:v1:prod-drift rows.csv --actor carl \
        --started-at 2026-11-23T00:00Z --ended-at 2026-11-24T00:00Z
"""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from monitoring import selectors, services
from registry.errors import Conflict


def _monitor(user, ref):
    monitors = selectors.monitors(user)
    if ref.isdigit():
        found = monitors.filter(pk=int(ref)).first()
    else:
        dataset, _, rest = ref.partition(":v")
        number, _, name = rest.partition(":")
        found = monitors.filter(version__dataset__slug=dataset, version__number=int(number) if number.isdigit() else -1,
                                name=name).first()
    if found is None:
        raise CommandError(f"{ref!r}: no such monitor in your scope (give its id or dataset-slug:vN:name).")
    return found


def _when(value, option):
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--{option}: not an ISO date-time: {value!r}")
    return parsed


class Command(BaseCommand):
    help = "Store a CSV / Parquet / JSONL file of production rows as a batch of a production monitor."

    def add_arguments(self, parser):
        parser.add_argument("monitor", help="Monitor id, or dataset-slug:vN:monitor-name.")
        parser.add_argument("file", type=Path)
        parser.add_argument("--actor", required=True, help="Username the batch is recorded for (scope is checked).")
        parser.add_argument("--started-at")
        parser.add_argument("--ended-at")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['actor']!r}.")
        monitor = _monitor(user, options["monitor"])
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with open(path, "rb") as stream:
                batch = services.post_production_batch(
                    actor=user, monitor=monitor, upload=(iter(lambda: stream.read(1 << 20), b""), path.name),
                    started_at=_when(options["started_at"], "started-at"), ended_at=_when(options["ended_at"], "ended-at"),
                )
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))
        except (Conflict, PermissionDenied) as error:
            raise CommandError(str(error))
        self.stdout.write(f"batch #{batch.pk}: {batch.row_count} rows, {batch.started_at:%Y-%m-%d %H:%M} → "
                          f"{batch.ended_at:%Y-%m-%d %H:%M}, sha256 {batch.file_sha256[:12]}")
