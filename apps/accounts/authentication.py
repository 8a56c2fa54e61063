"""`Authorization: Token <key>` for scripts. Keys are looked up by their public part and compared by
hash in constant time; revoked keys and inactive users are refused."""

from __future__ import annotations

import hmac

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import TOKEN_PREFIX, ApiToken, hash_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("That token is not valid.")
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise exceptions.AuthenticationFailed("That token is not valid.")
        token = ApiToken.objects.select_related("user").filter(lookup=parts[1]).first()
        if token is None or not hmac.compare_digest(token.key_hash, hash_token(key)):
            raise exceptions.AuthenticationFailed("That token is not valid.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("That token was revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("That user is deactivated.")
        token.touch()
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token header in the OpenAPI schema."""

    target_class = "apps.accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`; create a key under Account → API tokens."}
