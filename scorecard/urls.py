"""Server-rendered pages of this app (mounted at the site root)."""
from django.urls import path

from . import views

urlpatterns = [
    path("datasets/<slug:slug>/v<int:number>/scorecard/", views.scorecard_page, name="scorecard-page"),
    path("datasets/<slug:slug>/v<int:number>/scorecard/badge.svg", views.badge, name="scorecard-badge-page"),
    path("datasets/<slug:slug>/v<int:number>/scorecard/croissant.jsonld", views.croissant_page, name="croissant-page"),
    path("datasets/<slug:slug>/v<int:number>/scorecard/datacard.md", views.datacard_page, name="datacard-page"),
]
