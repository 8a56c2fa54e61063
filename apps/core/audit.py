"""The audit log. The middleware records every successful write request; services add a readable summary
with `audit_describe`, and work done outside a request (workers, commands) calls `audit_record`."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

from .models import AuditEvent, Project


@dataclass
class RequestAudit:
    summaries: list[str] = field(default_factory=list)
    project: Project | None = None
    recorded: bool = False


current_request: contextvars.ContextVar[RequestAudit | None] = contextvars.ContextVar("audit_request", default=None)


def audit_record(*, actor, action: str, summary: str = "", project: Project | None = None) -> None:
    """Inside a request, add to the request's audit row; outside one, write a row now."""
    pending = current_request.get()
    if pending is not None:
        pending.summaries.append(summary or action)
        pending.project = pending.project or project
        return
    AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action, summary=summary[:500], project=project,
    )
