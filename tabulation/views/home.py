"""Pages: thin. Parse, authorize, call a selector or service, render."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from tabulation.selectors.published import published_elections_list


def home(request: HttpRequest) -> HttpResponse:
    # The elections with published results, from the read side (no query).
    return render(request, "home.html", {"elections": published_elections_list()})


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
