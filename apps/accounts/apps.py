from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts, roles and tokens"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the login audit and throttle handlers
