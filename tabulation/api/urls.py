"""API v1. Each area keeps its own list of routes."""

from django.urls import include, path  # noqa: F401 - areas include their urls
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    # Record entry for clerks' field apps (issue 5):
    # path("", include("tabulation.api.entry_urls")),
    # Public read API (issue 7):
    # path("", include("tabulation.api.results_urls")),
]
