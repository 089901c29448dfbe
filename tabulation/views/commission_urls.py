"""The commission's pages (under /commission/)."""

from django.urls import path

from tabulation.views import commission, scans

app_name = "commission"

urlpatterns = [
    path("", commission.commission_home, name="home"),
    path("<slug:slug>/", commission.dashboard, name="dashboard"),
    path("<slug:slug>/live/", commission.dashboard_live, name="live"),
    path("<slug:slug>/version/", commission.dashboard_version, name="version"),
    path("<slug:slug>/stations/<slug:code>/", commission.station, name="station"),
    path("<slug:slug>/objections/", commission.objections, name="objections"),
    path(
        "<slug:slug>/objections/<int:pk>/decide/",
        commission.objection_decision,
        name="objection_decide",
    ),
    path("<slug:slug>/decisions/", commission.decisions, name="decisions"),
    path("<slug:slug>/lots/", commission.lots, name="lots"),
    path("<slug:slug>/certify/", commission.certify, name="certify"),
    path(
        "<slug:slug>/stations/<slug:code>/scan/", scans.commission_scan_upload, name="scan_upload"
    ),
    path("<slug:slug>/scans/<str:scan>", scans.commission_scan, name="scan"),
]
