from django.apps import AppConfig


class AutoMLConfig(AppConfig):
    name = "apps.automl"
    label = "automl"
    verbose_name = "AutoML"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the automl.run job kind
