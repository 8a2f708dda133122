"""The reactor's one Celery task: run a trigger the dispatcher sent, by id (thin: the work is in execution)."""

from __future__ import annotations

from celery import shared_task

from reactor.execution import run_trigger as execute


@shared_task(name="reactor.run_trigger", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_trigger(trigger_id: str) -> str:
    """Claim and run one trigger; a duplicate delivery finds it claimed and returns at once."""
    return str(execute(trigger_id).end)
