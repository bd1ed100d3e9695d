"""Server-rendered pages of this app (mounted at the site root)."""
from django.urls import path

from . import views

urlpatterns = [
    path("datasets/<slug:slug>/v<int:number>/gates/", views.version_gates, name="versiongates-page"),
    path("datasets/<slug:slug>/v<int:number>/gates/run/", views.start_run, name="versiongates-run-page"),
    path("gates/runs/<int:pk>/", views.run_detail, name="gaterun-page"),
]
