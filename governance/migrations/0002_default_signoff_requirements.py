"""Ship the default policy: every use cell needs a legal review and a governance approval."""
from django.db import migrations

USE_CELLS = ["training", "evaluation", "red_team", "demo", "privacy", "software_testing"]
DEFAULT_ROLES = ["legal_reviewer", "governance_reviewer"]


def add_defaults(apps, schema_editor):
    requirement = apps.get_model("governance", "SignOffRequirement")
    for use_cell in USE_CELLS:
        for role in DEFAULT_ROLES:
            requirement.objects.get_or_create(use_cell=use_cell, role=role)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
