"""Create the first administrator when the studio has none. The password comes from
STUDIO_ADMIN_PASSWORD, or is generated and printed once (it is not stored anywhere in clear)."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.core.audit import audit_record


class Command(BaseCommand):
    help = "Create the first studio administrator if there is none."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An administrator exists already; keeping it.")
            return
        username = os.environ.get("STUDIO_ADMIN_USERNAME", "admin")
        password = os.environ.get("STUDIO_ADMIN_PASSWORD", "")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError("STUDIO_ADMIN_PASSWORD is too weak: " + " ".join(error.messages))
        user = User.objects.create_superuser(username=username, email=os.environ.get("STUDIO_ADMIN_EMAIL", ""),
                                             password=password)
        audit_record(actor=user, action="user.create", summary=f"Created the first administrator {username}")
        self.stdout.write(self.style.SUCCESS(f"Created administrator '{username}'."))
        if generated:
            self.stdout.write(self.style.WARNING(
                f"  Its password is: {password}\n  It is shown only this once; change it under your profile, "
                "or set STUDIO_ADMIN_PASSWORD before the first start."
            ))
