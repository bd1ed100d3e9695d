"""Build a ratio-capped training mix from approved versions.

    python manage.py build_mix --actor carl --tenant support-ops --family support-intent-classifier \
        --name intents-2026-11 --component rare-intents-synthetic:v1 --component support-real:v2 --seed 7
"""
from django.core.management.base import BaseCommand

from registry.models import Tenant
from training import services

from . import _common


class Command(BaseCommand):
    help = "Build a training mix (guard, ratio cap, stratified downsampling) and print its manifest hash."

    def add_arguments(self, parser):
        _common.add_actor_argument(parser)
        parser.add_argument("--tenant", required=True, help="Requesting tenant (slug).")
        parser.add_argument("--family", required=True, help="Model family name in that tenant.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--component", action="append", required=True, help="dataset-slug:vN (repeat).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--purpose", default="")

    def handle(self, *args, **options):
        user = _common.actor(options["actor"])
        family = _common.family(user, options["tenant"], options["family"])
        components = _common.versions(user, options["component"])
        tenant = Tenant.objects.get(slug=options["tenant"])
        self.stderr.write(f"building {options['name']} from {len(components)} component(s)...")
        try:
            mix = services.build_training_mix(
                actor=user, tenant=tenant, family=family, name=options["name"], components=components,
                seed=options["seed"], purpose=options["purpose"],
            )
        except _common.SERVICE_ERRORS as error:
            raise _common.refused(error) from None
        self.stdout.write(
            f"mix {mix.name} (#{mix.pk}): {mix.total_count} rows, {mix.real_count} real, {mix.synthetic_count} "
            f"synthetic of {mix.synthetic_pool_count}; ratio {mix.synthetic_ratio:.4f} "
            f"(cap {mix.max_synthetic_ratio}); sha256 {mix.content_hash}"
        )
