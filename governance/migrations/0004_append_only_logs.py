"""The governance logs are append-only in the database too: sign-offs,
transitions, use decisions and export records refuse UPDATE (both databases)
and DELETE (PostgreSQL; SQLite gets no DELETE trigger because Django's test
flush empties tables with DELETE, while PostgreSQL's flush TRUNCATEs, which
row triggers do not see). The admin and the API offer no change or delete
either; these triggers catch raw SQL, the shell, a future bug.

A sign-off's decision (who, which role, approve or not, the comment, when) is
frozen; its manifest_hash stays writable, because the test suite simulates the
calendar by re-signing a backdated manifest (tests/test_governance_workflow.py,
backdate_expiry) and that is the one column the workflow never reads as history."""
from django.db import migrations

# table -> "UPDATE" or "UPDATE OF <frozen columns>"
TABLES = {
    "governance_signoff": "UPDATE OF version_id, reviewer_id, role, decision, comment, created_at",
    "governance_transition": "UPDATE",
    "governance_usedecision": "UPDATE",
    "governance_exportrecord": "UPDATE",
}
REFUSED = "governance logs are append-only"

POSTGRES = [
    f"""CREATE FUNCTION governance_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSED}: % on %', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$;""",
    *(f"""CREATE TRIGGER {table}_append_only BEFORE {update} OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION governance_append_only()""" for table, update in TABLES.items()),
]
POSTGRES_REVERSE = [
    *(f"DROP TRIGGER {table}_append_only ON {table}" for table in TABLES),
    "DROP FUNCTION governance_append_only()",
]
SQLITE = [
    f"""CREATE TRIGGER {table}_append_only BEFORE {update} ON {table}
        BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE on {table}'); END"""
    for table, update in TABLES.items()
]
SQLITE_REVERSE = [f"DROP TRIGGER {table}_append_only" for table in TABLES]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # no interpolation: RAISE uses %

    return run


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_export_record")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
