"""Entry API routes (under /api/v1/)."""

from django.urls import path

from tabulation.api import entry

urlpatterns = [
    path(
        "elections/<slug:slug>/stations/",
        entry.StationListView.as_view(),
        name="api-entry-stations",
    ),
    path(
        "elections/<slug:slug>/stations/<slug:code>/entries/",
        entry.EntryCreateView.as_view(),
        name="api-entry-create",
    ),
    path(
        "elections/<slug:slug>/stations/<slug:code>/entries/<int:entry_id>/withdraw/",
        entry.EntryWithdrawView.as_view(),
        name="api-entry-withdraw",
    ),
]
