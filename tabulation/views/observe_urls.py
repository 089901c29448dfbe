"""Observers' pages (under /observe/)."""

from django.urls import path

from tabulation.views import observers

app_name = "observe"

urlpatterns = [
    path("", observers.observe_home, name="home"),
    path("<slug:slug>/", observers.copies, name="copies"),
    path("<slug:slug>/upload/", observers.upload, name="upload"),
    path("<slug:slug>/<slug:code>/", observers.station, name="station"),
]
