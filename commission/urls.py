"""Root URLs. Pages are under a language prefix (none for Serbian Latin, the
default; /sr/ for Cyrillic, /en/ for English); the API and admin are not."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path

from tabulation.api.parsers import api_not_found
from tabulation.views import accounts

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("tabulation.api.urls")),
    # Anything else under /api/ is the API's 404, in JSON.
    re_path(r"^api/(?P<path>[\s\S]*)$", api_not_found, name="api-not-found"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/second-factor/", accounts.second_factor, name="second-factor"),
    path(
        "accounts/second-factor/setup/",
        accounts.second_factor_setup,
        name="second-factor-setup",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("tabulation.urls")),
    prefix_default_language=False,
)
