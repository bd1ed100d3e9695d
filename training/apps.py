from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"

    def ready(self):
        from registry.signals import version_state_changed, versions_state_changed

        from .receivers import flag_mixes_of_changed_version, flag_mixes_of_changed_versions

        version_state_changed.connect(flag_mixes_of_changed_version, dispatch_uid="training.flag_mixes")
        versions_state_changed.connect(flag_mixes_of_changed_versions, dispatch_uid="training.flag_mixes_bulk")
