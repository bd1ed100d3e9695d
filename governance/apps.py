from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_schedules(sender, **kwargs):
    from config.schedules import sync_schedules

    sync_schedules()


class GovernanceConfig(AppConfig):
    name = "governance"

    def ready(self):
        # Periodic schedules (config/schedules.py) are written after every migrate.
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="governance.sync_schedules")
