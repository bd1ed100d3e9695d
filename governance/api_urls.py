"""REST API routes of this app (mounted under /api/)."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
# Only detail actions: the version list and detail stay registry's routes.
router.register("versions", api.VersionGovernanceViewSet, basename="version-governance")
router.register("signoffs", api.SignOffViewSet, basename="signoff")
router.register("transitions", api.TransitionViewSet, basename="transition")
router.register("use-decisions", api.UseDecisionViewSet, basename="usedecision")
router.register("notices", api.NoticeViewSet, basename="notice")

urlpatterns = [
    path("authorize-use/", api.AuthorizeUseView.as_view(), name="authorize-use"),
    path("audit/", api.AuditLogView.as_view(), name="audit-log"),
    *router.urls,
]
