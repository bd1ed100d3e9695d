"""REST API routes of this app (mounted under /api/)."""
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("training/families", api.ModelFamilyViewSet, basename="modelfamily")
router.register("training/evaluation-sets", api.EvaluationSetViewSet, basename="evaluationset")
router.register("training/scans", api.LeakageScanViewSet, basename="leakagescan")
router.register("training/provenance-checks", api.ProvenanceCheckViewSet, basename="provenancecheck")
router.register("training/mix-builds", api.MixBuildViewSet, basename="mixbuild")
router.register("training/mixes", api.TrainingMixViewSet, basename="trainingmix")

urlpatterns = router.urls
