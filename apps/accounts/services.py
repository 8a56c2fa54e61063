"""Writes for accounts: API tokens, users created by site admins, and the sign-in failure counters.
Keyword-only, named <thing>_<verb>; the pages and the API call the same functions."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import Conflict, UserError

from .models import ApiToken, hash_token, new_token_key
from .selectors import token_get

User = get_user_model()


# --- API tokens --------------------------------------------------------------------------------
def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its key. The key is returned once and never stored; only its sha256 is kept."""
    name = name.strip()
    if not name:
        raise UserError("Give the token a name, so you can tell your tokens apart.", field="name")
    lookup, key = new_token_key()
    token = ApiToken.objects.create(user=user, name=name[:100], lookup=lookup, key_hash=hash_token(key))
    audit_record(actor=user, action="token.create", summary=f"Created API token {token.name!r}")
    return token, key


def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (someone else's answers 404 from the selector)."""
    token = token_get(user=user, token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action="token.revoke", summary=f"Revoked API token {token.name!r}")
    return token


# --- users (created by site admins; there is no self sign-up) -----------------------------------
def user_create(
    *, actor, username: str, email: str = "", password: str = "", site_admin: bool = False
) -> tuple[User, str]:
    """Create a user. With no password one is generated and returned (to be shown once); a given
    password must pass the configured validators."""
    username = username.strip()
    if not username:
        raise UserError("Choose a username.", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"The username {username!r} is taken.", field="username")
    generated = "" if password else secrets.token_urlsafe(15)
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password or generated, user=candidate)
    except ValidationError as error:
        raise UserError(" ".join(error.messages), field="password") from error
    with transaction.atomic():
        create = User.objects.create_superuser if site_admin else User.objects.create_user
        user = create(username=username, email=email, password=password or generated)
        kind = "site administrator" if site_admin else "user"
        audit_record(actor=actor, action="user.create", summary=f"Created {kind} {user.username}")
    return user, generated


def user_set_active(*, actor, user, active: bool) -> User:
    """Deactivate (sign-in, sessions and tokens stop working) or reactivate a user."""
    if user.pk == actor.pk and not active:
        raise UserError("You cannot deactivate your own account.")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        verb = "Reactivated" if active else "Deactivated"
        audit_record(actor=actor, action="user.activate" if active else "user.deactivate",
                     summary=f"{verb} {user.username}")
    return user


# --- sign-in throttling (counters in the Django cache, i.e. Redis) ------------------------------
def _failure_keys(*, username: str, ip: str | None) -> list[str]:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = [f"login-failures:user:{digest}"]
    if ip:
        keys.append(f"login-failures:ip:{ip}")
    return keys


def login_failure_record(*, username: str, ip: str | None) -> None:
    for key in _failure_keys(username=username, ip=ip):
        # add() starts the window with the first failure; incr() keeps its expiry.
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_is_blocked(*, username: str, ip: str | None) -> bool:
    """Blocked after LOGIN_FAILURE_LIMIT failures for one username, or LOGIN_FAILURE_IP_LIMIT from one address
    (higher, because many people may share an address behind a proxy or NAT)."""
    keys = _failure_keys(username=username, ip=ip)
    counts = cache.get_many(keys)
    limits = [settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_IP_LIMIT]
    return any(counts.get(key, 0) >= limit for key, limit in zip(keys, limits, strict=False))


def login_failures_clear(*, username: str) -> None:
    cache.delete(_failure_keys(username=username, ip=None)[0])
