from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TabulationConfig(AppConfig):
    name = "tabulation"
    verbose_name = _("Tabulation")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tabulation import signals
        from tabulation.services.roles import roles_after_migrate

        signals.connect()
        post_migrate.connect(roles_after_migrate, sender=self, dispatch_uid="tabulation.roles")
