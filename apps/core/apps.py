from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Studio core"

    def ready(self) -> None:
        from . import schedules

        post_migrate.connect(schedules.schedules_ensure, sender=self)
