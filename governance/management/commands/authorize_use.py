"""python manage.py authorize_use TENANT DATASET VERSION USE [--as USERNAME]

Prints allowed or denied with every reason; exit status 0 when allowed, 1 when
denied, 2 for bad input (so scripts can gate on it). The decision is logged like the API's."""
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance.models import Channel
from governance.services import authorize_use
from registry.errors import NotFound
from registry.models import DatasetVersion, Tenant


class Command(BaseCommand):
    help = "May TENANT use DATASET's VERSION for USE? Exit 0 allowed, 1 denied."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("dataset", help="dataset slug")
        parser.add_argument("version", type=int, help="version number")
        parser.add_argument("use", help="use (training, evaluation, red_team, demo, privacy, software_testing)")
        parser.add_argument("--as", dest="username", help="ask as this user (applies their tenant scope)")

    def handle(self, *args, tenant, dataset, version, use, username=None, **options):
        actor = None
        if username:
            actor = get_user_model().objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"No user {username!r}.", returncode=2)
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        version_obj = DatasetVersion.objects.filter(dataset__slug=dataset, number=version).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant {tenant!r}.", returncode=2)
        if version_obj is None:
            raise CommandError(f"No version {version} of dataset {dataset!r}.", returncode=2)
        try:
            decision = authorize_use(actor=actor, tenant=tenant_obj, version=version_obj, use=use, channel=Channel.CLI)
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()), returncode=2)
        except NotFound:
            raise CommandError(f"No version {version} of dataset {dataset!r} in {username}'s scope.", returncode=2)
        if decision.allowed:
            self.stdout.write(self.style.SUCCESS(f"allowed: {tenant} may use {version_obj} for {use}"))
            return
        self.stdout.write(self.style.ERROR(f"denied: {tenant} may not use {version_obj} for {use}"))
        for reason in decision.reasons:
            self.stdout.write(f"  - {reason['message']} [{reason['code']}]")
        sys.exit(1)
