from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

api_patterns = [
    path("", include("registry.api.urls")),
    path("", include("governance.api_urls")),
    path("", include("gates.api_urls")),
    path("", include("judges.api_urls")),
    path("", include("training.api_urls")),
    path("", include("scorecard.api_urls")),
    path("", include("monitoring.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # DRF's token view brings its own parsers; give it the API's (StrictJSONParser).
    path("auth/token/", ObtainAuthToken.as_view(parser_classes=api_settings.DEFAULT_PARSER_CLASSES), name="api-token"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include(api_patterns)),
    path("", include("registry.urls")),
    path("", include("governance.urls")),
    path("", include("gates.urls")),
    path("", include("judges.urls")),
    path("", include("training.urls")),
    path("", include("scorecard.urls")),
    path("", include("monitoring.urls")),
]
