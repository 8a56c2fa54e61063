from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "mls"  # noqa: S105 - the public prefix of every key, not a secret


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_token_key() -> tuple[str, str]:
    """(lookup id, full key). The key is shown once; only its sha256 is stored."""
    lookup = secrets.token_hex(6)
    return lookup, f"{TOKEN_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"


class ApiToken(models.Model):
    """A personal API token. Stored hashed; the key is shown to its owner once, when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    lookup = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def display_prefix(self) -> str:
        return f"{TOKEN_PREFIX}_{self.lookup}_…"

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(id=self.id).update(last_used_at=now)
