"""Tenant scope, enforced in one place.

Every page, API view, admin page, export and task that reads catalog objects on
behalf of a user goes through ``restrict(user, action)`` (``visible_to(user)``
is ``restrict(user, "view")``), which asks the permission table
(``registry.permissions``). It compiles to a single SQL query: the user's
tenants and the datasets shared with the user object by object (guardian's
direct-FK permission tables) are IN-subqueries, not Python loops.
"""
from django.db import models


class ScopedQuerySet(models.QuerySet):
    """Queryset for models scoped through a dataset, by a tenant, or registry-wide.

    The model declares ``SCOPE_DATASET_PATH`` (the lookup path to its Dataset;
    "" for Dataset itself) or ``SCOPE_TENANT_FIELD`` (for tenant-owned objects
    that are never shared one by one, like prompt templates); a model with
    neither is registry-wide.
    """

    def restrict(self, user, action):
        from . import permissions

        return permissions.restrict(self, user, action)

    def visible_to(self, user):
        return self.restrict(user, "view")


