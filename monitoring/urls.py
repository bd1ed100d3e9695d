"""Server-rendered pages of this app (mounted at the site root)."""
from django.urls import path

from . import views

urlpatterns = [
    path("monitoring/", views.home, name="monitoring-page"),
    path("datasets/<slug:slug>/monitoring/", views.dataset_monitoring, name="datasetmonitoring-page"),
    path("monitoring/runs/<int:pk>/", views.run_detail, name="monitorrun-page"),
    path("monitoring/runs/<int:pk>/report/<slug:part>/", views.run_report, name="monitorreport-page"),
    path("monitoring/baseline-versions/<int:pk>/", views.baseline_version_detail, name="baselineversion-page"),
    path("monitoring/alerts/<int:pk>/", views.alert_detail, name="alert-page"),
]
