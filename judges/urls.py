"""Server-rendered pages of this app (mounted at the site root)."""
from django.urls import path

from . import views

urlpatterns = [
    path("datasets/<slug:slug>/v<int:number>/judges/", views.version_judges, name="judges-page"),
]
