from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "apps.training"
    label = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the training.fit job kind
