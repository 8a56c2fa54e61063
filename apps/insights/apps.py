from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "apps.insights"
    label = "insights"
    verbose_name = "Data quality and insights"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the insights.report job kind
