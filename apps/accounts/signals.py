"""Sign-in events: every success and failure goes to the audit log (never the password), and failures
count towards the sign-in throttle."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from apps.core.audit import audit_record
from apps.core.models import AuditEvent

from .services import login_failure_record, login_failures_clear


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def audit_login(sender, request, user, **kwargs) -> None:
    login_failures_clear(username=user.get_username())
    audit_record(actor=user, action="login", summary=f"Signed in from {client_ip(request) or 'an unknown address'}")


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failure")
def audit_login_failure(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` has the password masked by Django; only the username is read from it.
    username = str(credentials.get("username", ""))[:150]
    ip = client_ip(request)
    login_failure_record(username=username, ip=ip)
    # Written directly: the audit middleware keeps no row for anonymous requests on its own.
    AuditEvent.objects.create(
        actor=None, actor_name="anonymous", action="login.failed", summary=f"Failed sign-in as {username!r}",
        method=getattr(request, "method", "") or "", path=(getattr(request, "path", "") or "")[:500], ip=ip,
    )
