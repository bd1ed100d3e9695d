"""REST API routes of this app (mounted under /api/)."""
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("baselines", api.BaselineViewSet, basename="baseline")
router.register("baseline-versions", api.BaselineVersionViewSet, basename="baselineversion")
router.register("monitors", api.MonitorViewSet, basename="monitor")
router.register("production-batches", api.BatchViewSet, basename="productionbatch")
router.register("monitor-runs", api.RunViewSet, basename="monitorrun")
router.register("alerts", api.AlertViewSet, basename="alert")

urlpatterns = router.urls
