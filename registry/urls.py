from django.urls import path

from . import views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset-page"),
    path("datasets/<slug:slug>/v<int:number>/", views.version_detail, name="version-page"),
]
