"""Run a version's gate cascade.

    python manage.py run_gates rare-intents-synthetic 1 [--wait] [--seed 0] [--actor carl]

Without --wait the run is queued for the Celery worker and its id printed.
With --wait it runs in this process (no worker needed) behind a progress bar,
and the exit status says whether it succeeded.
"""
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from tqdm import tqdm

from gates import services
from registry.cli import add_actor_argument, add_version_arguments, refusal, version_and_actor
from registry.errors import Conflict


class Command(BaseCommand):
    help = "Run the gate cascade of a dataset version (queued, or here with --wait)."

    def add_arguments(self, parser):
        add_version_arguments(parser)
        parser.add_argument("--wait", action="store_true", help="Run here with a progress bar and wait for the end.")
        parser.add_argument("--seed", type=int, default=0)
        add_actor_argument(parser, "the run")

    def handle(self, *args, **options):
        version, actor = version_and_actor(options)
        try:
            run = services.start_gate_run(actor=actor, version=version, seed=options["seed"],
                                          enqueue=not options["wait"])
        except (ValidationError, PermissionDenied, Conflict) as error:
            raise refusal(error) from None
        page = reverse("gaterun-page", args=[run.pk])
        if not options["wait"]:
            self.stdout.write(f"gate run #{run.pk} queued on {version}; follow it at {page}")
            return
        with tqdm(total=len(run.steps), unit="gate", desc=f"gate run #{run.pk}", file=self.stderr) as bar:
            def advance(done, total, gate):
                bar.set_postfix_str(gate)
                bar.update(done - bar.n)

            run = services.execute_gate_run(run_id=run.pk, listener=advance)
        if run.status != "succeeded":
            raise CommandError(f"gate run #{run.pk} {run.status}:\n{run.error}")
        self.stdout.write(f"gate run #{run.pk} succeeded: {run.pool_count} candidates, {run.accepted_count} accepted, "
                          f"{run.pool_count - run.accepted_count} rejected ({page})")
