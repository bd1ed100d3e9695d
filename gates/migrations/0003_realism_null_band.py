"""The realism gate's null band is now a permutation band (issue 14/16): its
parameters ``n_null`` (label-shuffled refits) and ``copy_margin`` are gone.
Configured cascades that set them lose them, as a new revision of the cascade
with history, so the cascade still validates and F.cascade_ran asks for a new
run. Finished runs keep the steps they ran."""
from django.db import migrations
from django.utils import timezone

REMOVED = ("n_null", "copy_margin")
REASON = "realism: the null band is a permutation band; n_null and copy_margin removed"


def _history(apps, model, row):
    """A history entry for ``row`` as simple-history writes one on save."""
    historical = apps.get_model("gates", f"Historical{model}")
    fields = {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}
    historical.objects.create(**fields, history_date=timezone.now(), history_change_reason=REASON,
                              history_type="~")


def drop_removed_params(apps, schema_editor):
    steps = apps.get_model("gates", "GateStep")
    cascades = apps.get_model("gates", "GateCascade")
    changed = set()
    for step in steps.objects.filter(gate="realism"):
        if any(name in step.params for name in REMOVED):
            step.params = {k: v for k, v in step.params.items() if k not in REMOVED}
            step.save(update_fields=["params"])
            _history(apps, "GateStep", step)
            changed.add(step.cascade_id)
    for cascade in cascades.objects.filter(pk__in=changed):
        cascade.revision += 1
        cascade.save(update_fields=["revision", "updated_at"])
        _history(apps, "GateCascade", cascade)


class Migration(migrations.Migration):
    dependencies = [("gates", "0002_run_heartbeat")]

    operations = [migrations.RunPython(drop_removed_params, migrations.RunPython.noop)]
