from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("tenants", views.TenantViewSet, basename="tenant")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("generators", views.GeneratorViewSet, basename="generator")
router.register("prompt-templates", views.PromptTemplateViewSet, basename="prompttemplate")
router.register("examples", views.ExampleViewSet, basename="example")
router.register("ingestion-jobs", views.IngestionJobViewSet, basename="ingestionjob")

urlpatterns = router.urls
