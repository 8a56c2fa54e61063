"""An upload handler that stops reading a request body once a file passes STUDIO_MAX_UPLOAD_MB, and leaves
a message on the request for the form or the API to show. Installed first in FILE_UPLOAD_HANDLERS, so it
guards every upload, page or API; files are streamed to disk by Django's temporary-file handler."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


def too_large_message() -> str:
    return (f"The file is larger than this studio's upload limit of {settings.MAX_UPLOAD_MB:,} MB "
            "(STUDIO_MAX_UPLOAD_MB). Upload a smaller file, or ask an admin to raise the limit.")


class SizeLimitUploadHandler(FileUploadHandler):
    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > settings.MAX_UPLOAD_BYTES:
            self.request.upload_refused = too_large_message()
            # Read and discard the rest of the body so the browser gets the answer instead of a reset.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_refusal(request) -> str:
    """The message the handler left on a Django (or DRF) request, or ''."""
    request = getattr(request, "_request", request)
    return getattr(request, "upload_refused", "")
