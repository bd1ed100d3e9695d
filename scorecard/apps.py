from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class ScorecardConfig(AppConfig):
    name = "scorecard"

    def ready(self):
        # Every app's careful_checks.py registers the checks it holds evidence for.
        autodiscover_modules("careful_checks")
        from . import receivers  # noqa: F401  (connects the snapshot hooks)
