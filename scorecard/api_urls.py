"""REST API routes of this app (mounted under /api/)."""
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("scorecards", api.ScorecardViewSet, basename="scorecard")
router.register("scorecard-policies", api.PolicyViewSet, basename="scorecardpolicy")
router.register("waivers", api.WaiverViewSet, basename="waiver")

urlpatterns = router.urls
