"""REST API routes of this app (mounted under /api/)."""
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("gates/cascades", api.CascadeViewSet, basename="gatecascade")
router.register("gates/runs", api.GateRunViewSet, basename="gaterun")
router.register("gates/versions", api.VersionGatesViewSet, basename="versiongates")
router.register("gates/fidelity-reports", api.FidelityReportViewSet, basename="fidelityreport")

urlpatterns = router.urls
