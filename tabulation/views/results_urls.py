"""Public results pages and open data, under /results/ (and the language prefix)."""

from django.urls import path

from tabulation.views import documents, results, scans

app_name = "results"

urlpatterns = [
    path("", results.results_index, name="index"),
    path("<slug:slug>/", results.results_page, name="election"),
    path("<slug:slug>/live/", results.results_live, name="live"),
    path("<slug:slug>/version/", results.results_version, name="version"),
    path("<slug:slug>/data/", results.open_data_page, name="open-data"),
    path("<slug:slug>/snapshots/", results.snapshots_page, name="snapshots"),
    path("<slug:slug>/data/<str:filename>", results.open_data_file, name="file"),
    path(
        "<slug:slug>/data/v<int:version>/<str:filename>",
        results.open_data_file,
        name="version-file",
    ),
    path(
        "<slug:slug>/municipalities/<slug:code>/",
        results.municipality_page,
        name="municipality",
    ),
    path("<slug:slug>/stations/<slug:code>/", results.station_page, name="station"),
    path("<slug:slug>/v<int:version>/", results.results_page, name="election-version"),
    path(
        "<slug:slug>/v<int:version>/municipalities/<slug:code>/",
        results.municipality_page,
        name="municipality-version",
    ),
    path(
        "<slug:slug>/v<int:version>/stations/<slug:code>/",
        results.station_page,
        name="station-version",
    ),
    # Scans of accepted records, and their list with hashes (open data).
    path("<slug:slug>/scans.csv", scans.scans_csv, name="scans-csv"),
    path("<slug:slug>/scans/<str:scan>", scans.public_scan, name="scan"),
    # The commission's documents: the total report and the mandates decision.
    path("<slug:slug>/report/", documents.report_page, name="report"),
    path("<slug:slug>/report.pdf", documents.report_pdf, name="report-pdf"),
    path("<slug:slug>/mandates/", documents.mandates_page, name="mandates"),
    path("<slug:slug>/mandates.pdf", documents.mandates_pdf, name="mandates-pdf"),
    path("<slug:slug>/v<int:version>/report/", documents.report_page, name="report-version"),
    path("<slug:slug>/v<int:version>/report.pdf", documents.report_pdf, name="report-pdf-version"),
    path("<slug:slug>/v<int:version>/mandates/", documents.mandates_page, name="mandates-version"),
    path(
        "<slug:slug>/v<int:version>/mandates.pdf",
        documents.mandates_pdf,
        name="mandates-pdf-version",
    ),
]
