"""A.fidelity gains thresholds on table structure and copies (issue 16): every
stored policy requiring it gets its cell's new defaults for the thresholds it
lacks. Thresholds already stored (a governance change of max_auc) are kept.
Each changed row gets a history entry, as an admin change would."""
from django.db import migrations
from django.utils import timezone

REASON = "A.fidelity thresholds: column shapes, pair trends against the real-vs-real baseline, copies"


def add_thresholds(apps, schema_editor):
    from scorecard.policy_defaults import fidelity_params

    policies = apps.get_model("scorecard", "ScorecardPolicy")
    history = apps.get_model("scorecard", "HistoricalScorecardPolicy")
    for policy in policies.objects.all():
        current = policy.checks.get("A.fidelity")
        if current is None:
            continue
        merged = {**fidelity_params(policy.use_cell, policy.harm), **current}
        if merged == current:
            continue
        policy.checks = {**policy.checks, "A.fidelity": merged}
        policy.save(update_fields=["checks", "updated_at"])
        # Every field the model has at this point (a later migration removes one).
        row = {field.attname: getattr(policy, field.attname) for field in policies._meta.concrete_fields}
        history.objects.create(**row, history_date=timezone.now(), history_change_reason=REASON, history_type="~")


class Migration(migrations.Migration):
    dependencies = [("scorecard", "0002_default_policies")]

    operations = [migrations.RunPython(add_thresholds, migrations.RunPython.noop)]
