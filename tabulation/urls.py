"""Page URLs (under the language prefix). Each area keeps its own list."""

from django.urls import include, path  # noqa: F401 - areas include their urls

from tabulation.views import home

urlpatterns = [
    path("", home.home, name="home"),
    path("health/", home.health, name="health"),
    # Polling-board clerks: their stations and the record form (issue 5).
    # path("entry/", include("tabulation.views.entry_urls")),
    # The public results, open data (issue 7).
    # path("results/", include("tabulation.views.results_urls")),
]
