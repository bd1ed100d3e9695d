"""Server-rendered pages of this app (mounted at the site root)."""
from django.urls import path

from . import views

urlpatterns = [
    path("training/", views.home, name="training-page"),
    path("training/families/<int:pk>/", views.family_detail, name="modelfamily-page"),
    path("training/scans/<int:pk>/", views.scan_detail, name="leakagescan-page"),
    path("training/provenance-checks/<int:pk>/", views.check_detail, name="provenancecheck-page"),
    path("training/mixes/<int:pk>/", views.mix_detail, name="trainingmix-page"),
]
