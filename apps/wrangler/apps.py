from django.apps import AppConfig


class WranglerConfig(AppConfig):
    name = "apps.wrangler"
    label = "wrangler"
    verbose_name = "Data Wrangler"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from apps.datasets.models import DatasetVersion

        from . import jobs, signals  # noqa: F401 - registers the flow.apply job kind

        post_save.connect(signals.version_saved, sender=DatasetVersion, dispatch_uid="wrangler.version_saved")
        post_delete.connect(signals.flow_deleted, sender="wrangler.Flow", dispatch_uid="wrangler.flow_deleted")
