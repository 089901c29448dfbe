"""The commission's decisions API routes (under /api/v1/)."""

from django.urls import path

from tabulation.api import decisions

urlpatterns = [
    path(
        "elections/<slug:slug>/stations/<slug:code>/decisions/",
        decisions.StationDecisionView.as_view(),
        name="api-decision-station",
    ),
    path(
        "elections/<slug:slug>/objections/",
        decisions.ObjectionRegisterView.as_view(),
        name="api-objection-register",
    ),
    path(
        "elections/<slug:slug>/objections/<int:objection_id>/decision/",
        decisions.ObjectionDecideView.as_view(),
        name="api-objection-decide",
    ),
    path(
        "elections/<slug:slug>/lots/",
        decisions.LotsView.as_view(),
        name="api-lots",
    ),
]
