"""REST API routes of this app (mounted under /api/)."""
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("judges/panels", api.JudgePanelViewSet, basename="judgepanel")
router.register("judges/uploads", api.ScoreUploadViewSet, basename="scoreupload")
router.register("judges/scores", api.JudgeScoreViewSet, basename="judgescore")
router.register("judges/review-items", api.ReviewItemViewSet, basename="reviewitem")

urlpatterns = router.urls
