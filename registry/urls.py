from django.urls import path

from . import views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset-page"),
    path("datasets/<slug:slug>/v<int:number>/", views.version_detail, name="version-page"),
    path("datasets/<slug:slug>/v<int:number>/lineage/", views.version_lineage, name="lineage-page"),
    path("datasets/<slug:slug>/v<int:number>/examples/", views.version_examples, name="examples-page"),
    path("datasets/<slug:slug>/v<int:number>/examples/<int:ordinal>/", views.example_detail, name="example-page"),
    path("datasets/<slug:slug>/v<int:number>/diff/", views.version_diff, name="versiondiff-page"),
    path("ingestion-jobs/<int:pk>/", views.ingestion_job, name="ingestionjob-page"),
]
