"""Server-rendered pages of this app (mounted at the site root)."""
from django.urls import path

from . import views

urlpatterns = [
    path("notices/", views.notices, name="notices-page"),
    path("notices/read/", views.mark_notices_read, name="notices-read-page"),
    path("audit.csv", views.audit_csv, name="audit-csv"),
]
