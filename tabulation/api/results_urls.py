"""Public read API routes (mounted under /api/v1/)."""

from django.urls import path

from tabulation.api import results

urlpatterns = [
    path("elections/", results.ElectionListView.as_view(), name="api-elections"),
    path("elections/<slug:slug>/", results.ElectionView.as_view(), name="api-election"),
    path(
        "elections/<slug:slug>/results/",
        results.ResultsView.as_view(),
        name="api-results",
    ),
    path(
        "elections/<slug:slug>/snapshots/",
        results.SnapshotListView.as_view(),
        name="api-results-snapshots",
    ),
    path(
        "elections/<slug:slug>/snapshots/<int:version>/",
        results.SnapshotView.as_view(),
        name="api-results-snapshot",
    ),
    path(
        "elections/<slug:slug>/mandates/",
        results.MandatesView.as_view(),
        name="api-results-mandates",
    ),
    path(
        "elections/<slug:slug>/stations/<slug:code>/",
        results.StationView.as_view(),
        name="api-results-station",
    ),
]
