from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TabulationConfig(AppConfig):
    name = "tabulation"
    verbose_name = _("Tabulation")

    def ready(self) -> None:
        from tabulation import signals

        signals.connect()
