"""Append-only tables, enforced by the database: row triggers that refuse
UPDATE (of the listed columns, or of any) and DELETE (PostgreSQL only: Django's
test flush empties SQLite tables with DELETE, which a trigger would refuse,
while PostgreSQL's flush TRUNCATEs, which row triggers do not see). For a
migration: ``append_only("registry_auditevent", ...)`` is one operation."""
from django.db import migrations


def _statements(tables, function, message):
    postgres = [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{message}: % on %', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END $$;""",
        *(f"""CREATE TRIGGER {table}_append_only BEFORE {update} OR DELETE ON {table}
              FOR EACH ROW EXECUTE FUNCTION {function}()""" for table, update in tables.items()),
    ]
    postgres_reverse = [*(f"DROP TRIGGER {table}_append_only ON {table}" for table in tables),
                        f"DROP FUNCTION {function}()"]
    sqlite = [f"""CREATE TRIGGER {table}_append_only BEFORE {update} ON {table}
                  BEGIN SELECT RAISE(ABORT, '{message}: UPDATE on {table}'); END""" for table, update in tables.items()]
    sqlite_reverse = [f"DROP TRIGGER {table}_append_only" for table in tables]
    return {"postgresql": postgres, "sqlite": sqlite}, {"postgresql": postgres_reverse, "sqlite": sqlite_reverse}


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # no interpolation: RAISE uses %

    return run


def append_only(tables, *, function, message):
    """``tables``: table -> "UPDATE" or "UPDATE OF <frozen columns>"."""
    forward, reverse = _statements(tables, function, message)
    return migrations.RunPython(_run(forward), _run(reverse))
