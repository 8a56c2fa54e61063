import pytest


@pytest.fixture
def sent(monkeypatch):
    """The messages jobs send to the broker, recorded instead of sent: [(task name, args, queue)]."""
    from studio.celery import app

    messages: list[tuple[str, list, str]] = []

    def send_task(name, args=None, queue=None, **options):
        messages.append((name, list(args or []), queue))

    monkeypatch.setattr(app, "send_task", send_task)
    return messages


@pytest.fixture
def owner(project):
    return project.created_by
