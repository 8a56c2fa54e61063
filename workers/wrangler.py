"""Celery tasks of the Data Wrangler. Thin: ids in, a service call, nothing returned."""

from celery import shared_task


@shared_task(name="wrangler.apply_scheduled", acks_late=True)
def apply_scheduled(flow_id: int, user_id: int) -> None:
    from apps.wrangler.services import flow_apply_scheduled

    flow_apply_scheduled(flow_id=flow_id, user_id=user_id)
