"""Writing the audit trail: one row per governed action that no other record
already logs. Call it inside the action's transaction, so the row commits
or rolls back with the change it records. ``governance.audit`` reads it
together with the workflow's own logs."""
from .models import AuditEvent, Tenant


def tenant_of(obj):
    """The tenant an object belongs to (None for registry-wide objects)."""
    if obj is None or isinstance(obj, Tenant):
        return obj
    for path in ("tenant", "dataset", "version", "family", "monitor", "scan", "baseline", "run", "cascade"):
        related = getattr(obj, path, None)
        if related is not None and related is not obj:
            return tenant_of(related)
    return None


def record(*, actor, action, obj=None, tenant=None, label=None, detail="", data=None):
    """Append one AuditEvent: ``actor`` (None: the system) did ``action`` to
    ``obj`` (its tenant is found through its dataset or tenant unless given)."""
    tenant = tenant if tenant is not None else tenant_of(obj)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None else "system",
        tenant=tenant, action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_label=(label if label is not None else str(obj) if obj is not None else "")[:255],
        detail=detail, data=data or {},
    )
