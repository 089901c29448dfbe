"""Record entry pages (under /entry/)."""

from django.urls import path

from tabulation.views import entry, scans

app_name = "entry"

urlpatterns = [
    path("", entry.entry_home, name="home"),
    path("<slug:slug>/", entry.station_list, name="stations"),
    path("<slug:slug>/<slug:code>/", entry.station_entry, name="station"),
    path("<slug:slug>/<slug:code>/withdraw/", entry.station_withdraw, name="withdraw"),
    path("<slug:slug>/<slug:code>/reconcile/", entry.station_reconcile, name="reconcile"),
    path("<slug:slug>/<slug:code>/scan/", scans.entry_scan, name="scan"),
]
