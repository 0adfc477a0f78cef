from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from clinic.broker import delivered_messages_delete


@shared_task(name="clinic.prune_embedded_broker")
def prune_embedded_broker() -> int:
    return delivered_messages_delete(
        broker_url=settings.CELERY_BROKER_URL, older_than=timedelta(hours=1)
    )
