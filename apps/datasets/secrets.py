"""Connection passwords at rest, encrypted with the standard library only.

The key is derived from SECRET_KEY. Encryption is HMAC-SHA256 in counter mode as the keystream (a random
16-byte nonce per password) and an HMAC-SHA256 tag over nonce and ciphertext (encrypt-then-MAC), with separate
derived keys for the two. Changing SECRET_KEY makes saved passwords unreadable: the studio then says so and
asks for the password again, it never guesses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

from apps.core.errors import UserError

VERSION = "v1"
NONCE_BYTES, TAG_BYTES = 16, 32


def _key(purpose: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"studio.connection-password.{purpose}".encode(),
                    hashlib.sha256).digest()


def _keystream(nonce: bytes, length: int) -> bytes:
    key, blocks = _key("encrypt"), []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def password_encrypt(password: str) -> str:
    if not password:
        return ""
    data = password.encode()
    nonce = secrets.token_bytes(NONCE_BYTES)
    cipher = bytes(a ^ b for a, b in zip(data, _keystream(nonce, len(data)), strict=True))
    tag = hmac.new(_key("mac"), nonce + cipher, hashlib.sha256).digest()
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + cipher + tag).decode()


def password_decrypt(stored: str) -> str:
    if not stored:
        return ""
    message = ("The saved password of this connection can no longer be read (the studio's secret key changed). "
               "Edit the connection and type the password again.")
    version, _, encoded = stored.partition(":")
    try:
        raw = base64.urlsafe_b64decode(encoded.encode())
    except ValueError:
        raise UserError(message) from None
    if version != VERSION or len(raw) < NONCE_BYTES + TAG_BYTES:
        raise UserError(message)
    nonce, cipher, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    if not hmac.compare_digest(tag, hmac.new(_key("mac"), nonce + cipher, hashlib.sha256).digest()):
        raise UserError(message)
    return bytes(a ^ b for a, b in zip(cipher, _keystream(nonce, len(cipher)), strict=True)).decode()
