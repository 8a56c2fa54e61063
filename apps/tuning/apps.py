from django.apps import AppConfig


class TuningConfig(AppConfig):
    name = "apps.tuning"
    label = "tuning"
    verbose_name = "Tuning"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the tuning.run job kind
