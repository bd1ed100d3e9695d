"""The shipped policy: one row per cell (use × harm × cheap verifier)."""
from django.db import migrations


def load_defaults(apps, schema_editor):
    from scorecard.policy_defaults import install_defaults

    install_defaults(apps.get_model("scorecard", "ScorecardPolicy"))


class Migration(migrations.Migration):
    dependencies = [("scorecard", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
