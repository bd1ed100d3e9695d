"""Scan a model family's evaluation set against training candidates, with progress.

    python manage.py leakage_scan --actor carl --tenant support-ops --family support-intent-classifier \
        --candidate rare-intents-synthetic:v1 [--threshold 0.8]
"""
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from training import services
from training.models import EvaluationSet

from . import _common


class Command(BaseCommand):
    help = "Run a leakage scan (exact, near-duplicate, seed overlap) in this process and list what it found."

    def add_arguments(self, parser):
        _common.add_actor_argument(parser)
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--family", required=True, help="Model family whose current evaluation set is scanned.")
        parser.add_argument("--candidate", action="append", required=True, help="dataset-slug:vN (repeat).")
        parser.add_argument("--threshold", type=float, default=None, help="Near-duplicate Jaccard threshold.")

    def handle(self, *args, **options):
        user = _common.actor(options["actor"])
        family = _common.family(user, options["tenant"], options["family"])
        candidates = _common.versions(user, options["candidate"])
        evaluation_set = EvaluationSet.objects.filter(family=family, active=True).first()
        if evaluation_set is None:
            raise CommandError(f"{family} has no evaluation set; designate one first.")
        params = {"threshold": options["threshold"]} if options["threshold"] is not None else None
        try:
            scan = services.request_leakage_scan(
                actor=user, evaluation_set=evaluation_set, candidates=candidates, params=params, enqueue=False
            )
        except _common.SERVICE_ERRORS as error:
            raise _common.refused(error) from None
        total = sum(v.examples.count() for v in candidates)
        with tqdm(total=total, unit="rows", desc=f"scan #{scan.pk}", file=self.stderr) as bar:
            scan = services.run_leakage_scan(scan_id=scan.pk, progress=bar.update)
        self.stdout.write(
            f"scan #{scan.pk} {scan.status}: {scan.exact_pairs} exact, {scan.near_pairs} near, {scan.seed_pairs} seed "
            f"pair(s); {scan.leaked_eval_items} of {scan.eval_items} eval items leaked"
        )
