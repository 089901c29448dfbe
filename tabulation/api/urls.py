"""API v1. Each area keeps its own list of routes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from tabulation.api import observers
from tabulation.api.results import ApiRootView

urlpatterns = [
    # The entry point: links to the endpoints.
    path("", ApiRootView.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    # Record entry for clerks' field apps:
    path("", include("tabulation.api.entry_urls")),
    # The commission's decisions, for members' tools:
    path("", include("tabulation.api.decision_urls")),
    # Observers' copies of the records:
    path(
        "elections/<slug:slug>/copies/", observers.CopiesView.as_view(), name="api-observer-copies"
    ),
    # The public read API:
    path("", include("tabulation.api.results_urls")),
]
