"""A sign-off is frozen whole, its manifest_hash included: the hash is what the
approval is bound to. (0004 left the hash writable so that tests could backdate
a manifest by re-signing it; they move the clock now instead.) The trigger is
re-created on UPDATE of any column, with 0004's shared function."""
from django.db import migrations

TABLE = "governance_signoff"
MESSAGE = "governance logs are append-only"


def _trigger(update):
    return {
        "postgresql": [
            f"DROP TRIGGER {TABLE}_append_only ON {TABLE}",
            f"""CREATE TRIGGER {TABLE}_append_only BEFORE {update} OR DELETE ON {TABLE}
                FOR EACH ROW EXECUTE FUNCTION governance_append_only()""",
        ],
        "sqlite": [
            f"DROP TRIGGER {TABLE}_append_only",
            f"""CREATE TRIGGER {TABLE}_append_only BEFORE {update} ON {TABLE}
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE on {TABLE}'); END""",
        ],
    }


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("governance", "0004_append_only_logs")]

    operations = [
        migrations.RunPython(
            _run(_trigger("UPDATE")),
            _run(_trigger("UPDATE OF version_id, reviewer_id, role, decision, comment, created_at")),
        ),
    ]
