"""Page URLs (under the language prefix). Each area keeps its own list."""

from django.urls import include, path

from tabulation.views import home

urlpatterns = [
    path("", home.home, name="home"),
    path("health/", home.health, name="health"),
    # Polling-board clerks: their stations and the record form.
    path("entry/", include("tabulation.views.entry_urls")),
    # Commission members: the dashboard, a station's decisions, objections.
    path("commission/", include("tabulation.views.commission_urls")),
    # Observers: their copies of the records (docs/observers.md).
    path("observe/", include("tabulation.views.observe_urls")),
    # The public results, open data.
    path("results/", include("tabulation.views.results_urls")),
]
