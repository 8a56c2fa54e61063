"""Periodic work lives in the database (django-celery-beat), so schedules survive restarts and are
visible, not held as long ETAs on the broker."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings


def schedules_ensure(**_: Any) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _created = IntervalSchedule.objects.get_or_create(
        every=settings.JOB_REAP_INTERVAL_SECONDS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name="Re-queue or fail jobs whose worker stopped responding",
        defaults={"task": "jobs.reap", "interval": every, "queue": "default", "args": json.dumps([]), "enabled": True},
    )
