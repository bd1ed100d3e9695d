"""Approved (any non-draft) versions are immutable in the database too.

Triggers refuse, when the example's version is not a draft:
- INSERT of examples (PostgreSQL: one statement-level check over the COPY's
  transition table, so bulk ingestion pays one join, not a lookup per row);
- UPDATE of an example's content or lineage, or clearing its eval_exclusion /
  never_train_on flag (flags may still be *set*: a frozen row may become more
  restricted, as training does when it designates an evaluation set);
- DELETE of examples (PostgreSQL only). Deleting a draft version still
  cascades to its examples; a non-draft version cannot be deleted while it has
  examples: governed versions are retired, never deleted. SQLite gets no DELETE
  trigger: Django's test flush empties tables in arbitrary order with DELETE,
  and a trigger there would refuse it;
- UPDATE of a manifest's fields (updated_at aside).
The services check the same rule first and answer 409; the triggers catch any
other path (raw SQL, the shell, a future bug).
"""
from django.db import migrations

FROZEN = "examples of a non-draft version are immutable: create a new version"
FROZEN_MANIFEST = "the manifest of a non-draft version is immutable: create a new version"

EXAMPLE_COLUMNS = (
    "version_id", "ordinal", "text", "data", "content_hash", "dup_rank", "label", "origin", "generator_id",
    "prompt_template_id", "prompt_hash", "seed_example_id", "seed_external_id", "sampling_params", "intended_use",
)
MANIFEST_COLUMNS = (
    "version_id", "purpose_gap", "purpose_why_not_real", "purpose_success_criterion", "use_cell", "intended_uses",
    "prohibited_uses", "max_synthetic_ratio", "expires_at", "real_anchor_id", "eval_exclusion", "never_train_on",
    "allow_duplicates", "owner_id", "harm_if_wrong", "cheap_verifier", "content_hash",
)


def _changed(columns, distinct):
    return " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in columns)


LOOSENED = "(OLD.eval_exclusion AND NOT NEW.eval_exclusion) OR (OLD.never_train_on AND NOT NEW.never_train_on)"


def _state(ref):
    return f"(SELECT state FROM registry_datasetversion WHERE id = {ref})"


POSTGRES = [
    f"""
    CREATE FUNCTION registry_example_frozen_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM registry_datasetversion v
            WHERE v.state <> 'draft' AND v.id IN (SELECT DISTINCT version_id FROM changed_rows)
        ) THEN
            RAISE EXCEPTION '{FROZEN}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END $$;
    """,
    """CREATE TRIGGER registry_example_frozen_insert AFTER INSERT ON registry_example
       REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_example_frozen_rows()""",
    """CREATE TRIGGER registry_example_frozen_delete AFTER DELETE ON registry_example
       REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_example_frozen_rows()""",
    f"""
    CREATE FUNCTION registry_example_frozen_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF ({_state("OLD.version_id")} <> 'draft' OR {_state("NEW.version_id")} <> 'draft')
           AND ({_changed(EXAMPLE_COLUMNS, "IS DISTINCT FROM")} OR {LOOSENED}) THEN
            RAISE EXCEPTION '{FROZEN}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$;
    """,
    """CREATE TRIGGER registry_example_frozen_update BEFORE UPDATE ON registry_example
       FOR EACH ROW EXECUTE FUNCTION registry_example_frozen_update()""",
    f"""
    CREATE FUNCTION registry_manifest_frozen_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {_state("OLD.version_id")} <> 'draft' AND ({_changed(MANIFEST_COLUMNS, "IS DISTINCT FROM")}) THEN
            RAISE EXCEPTION '{FROZEN_MANIFEST}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$;
    """,
    """CREATE TRIGGER registry_manifest_frozen_update BEFORE UPDATE ON registry_manifest
       FOR EACH ROW EXECUTE FUNCTION registry_manifest_frozen_update()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER registry_manifest_frozen_update ON registry_manifest",
    "DROP FUNCTION registry_manifest_frozen_update()",
    "DROP TRIGGER registry_example_frozen_update ON registry_example",
    "DROP FUNCTION registry_example_frozen_update()",
    "DROP TRIGGER registry_example_frozen_delete ON registry_example",
    "DROP TRIGGER registry_example_frozen_insert ON registry_example",
    "DROP FUNCTION registry_example_frozen_rows()",
]

SQLITE = [
    f"""CREATE TRIGGER registry_example_frozen_insert BEFORE INSERT ON registry_example
        WHEN {_state("NEW.version_id")} <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER registry_example_frozen_update BEFORE UPDATE ON registry_example
        WHEN ({_state("OLD.version_id")} <> 'draft' OR {_state("NEW.version_id")} <> 'draft')
         AND ({_changed(EXAMPLE_COLUMNS, "IS NOT")} OR {LOOSENED})
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER registry_manifest_frozen_update BEFORE UPDATE ON registry_manifest
        WHEN {_state("OLD.version_id")} <> 'draft' AND ({_changed(MANIFEST_COLUMNS, "IS NOT")})
        BEGIN SELECT RAISE(ABORT, '{FROZEN_MANIFEST}'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER registry_manifest_frozen_update",
    "DROP TRIGGER registry_example_frozen_update",
    "DROP TRIGGER registry_example_frozen_insert",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements[schema_editor.connection.vendor]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_lineage_ingestion")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
