"""Tenant scope, enforced in one place.

Every page, API view, admin page, export and task that reads catalog objects on
behalf of a user goes through ``visible_to(user)``. It compiles to a single SQL
query: the user's tenants and the datasets shared with the user object by object
(guardian's direct-FK permission tables) are IN-subqueries, not Python loops.
"""
from django.apps import apps
from django.db import models
from django.db.models import Q

from .choices import GOVERNOR_ROLES, WRITER_ROLES


def _user_tenant_ids(user, roles=None):
    memberships = apps.get_model("registry", "Membership").objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("tenant_id")


def dataset_visibility(user, path=""):
    """Q matching rows whose dataset (reached by ``path``) the user may see."""
    prefix = f"{path}__" if path else ""
    user_shares = apps.get_model("registry", "DatasetUserObjectPermission").objects.filter(
        user=user, permission__codename="view_dataset"
    )
    group_shares = apps.get_model("registry", "DatasetGroupObjectPermission").objects.filter(
        group__user=user, permission__codename="view_dataset"
    )
    return (
        Q(**{f"{prefix}tenant_id__in": _user_tenant_ids(user)})
        | Q(**{f"{prefix}pk__in": user_shares.values("content_object_id")})
        | Q(**{f"{prefix}pk__in": group_shares.values("content_object_id")})
    )


class TenantQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(pk__in=_user_tenant_ids(user))

    def writable_by(self, user):
        """Tenants in which the user may create and edit datasets."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(pk__in=_user_tenant_ids(user, WRITER_ROLES))

    def governed_by(self, user):
        """Tenants whose datasets the user reviews (the admin's scope)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(pk__in=_user_tenant_ids(user, GOVERNOR_ROLES))


class ScopedQuerySet(models.QuerySet):
    """Queryset for models scoped through a dataset or directly by a tenant.

    The model declares ``SCOPE_DATASET_PATH`` (the lookup path to its Dataset;
    "" for Dataset itself) or ``SCOPE_TENANT_FIELD`` (for tenant-owned objects
    that are never shared one by one, like prompt templates).
    """

    def _scope_q(self, user, tenant_ids):
        tenant_field = getattr(self.model, "SCOPE_TENANT_FIELD", None)
        if tenant_field:
            return Q(**{f"{tenant_field}_id__in": tenant_ids})
        path = self.model.SCOPE_DATASET_PATH
        prefix = f"{path}__" if path else ""
        return Q(**{f"{prefix}tenant_id__in": tenant_ids})

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        if getattr(self.model, "SCOPE_TENANT_FIELD", None):
            return self.filter(self._scope_q(user, _user_tenant_ids(user)))
        return self.filter(dataset_visibility(user, self.model.SCOPE_DATASET_PATH))

    def writable_by(self, user):
        """Rows the user may change: in a tenant where the user is a writer."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(self._scope_q(user, _user_tenant_ids(user, WRITER_ROLES)))

    def governed_by(self, user):
        """Rows of tenants the user governs: what staff see in the admin."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(self._scope_q(user, _user_tenant_ids(user, GOVERNOR_ROLES)))
