"""A partial index over registry_example for the training-mix guard.

The guard (training.selectors.GUARD_SQL) asks "which rows of these versions are
flagged eval_exclusion or never_train_on?" in one query. This index holds only
flagged rows, so the answer costs the number of flagged rows, not the size of
the versions. Registry models are not ours to change, hence RunSQL here; the
syntax is the same on PostgreSQL and SQLite, and the WHERE clause must match
the guard's predicate exactly for either planner to use it.
"""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0001_initial"),
        ("registry", "0002_example"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX training_example_flagged ON registry_example (version_id, id) "
            "WHERE eval_exclusion OR never_train_on",
            reverse_sql="DROP INDEX training_example_flagged",
        ),
    ]
