"""The audit trail is append-only in the database: UPDATE of a recorded
action is refused (the actor's id alone may be cleared when the account is
deleted: actor_name keeps who it was), and DELETE on PostgreSQL."""
from django.db import migrations

from registry.db_triggers import append_only

FROZEN = "UPDATE OF at, actor_name, tenant_id, action, object_type, object_id, object_label, detail, data"


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_registry_roles_and_audit_events")]

    operations = [
        append_only({"registry_auditevent": FROZEN}, function="registry_audit_append_only",
                    message="the audit trail is append-only"),
    ]
