"""The Celery app. Tasks live in workers/, one module per area; they only turn a message into a service call."""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
# One direct exchange per queue, so a message sent to one queue is never copied into another.
app.conf.task_queues = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ("default", "training", "batch", "monitoring")
]
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"
app.conf.imports = ["workers.jobs", "workers.wrangler"]
