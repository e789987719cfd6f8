"""Files handed to one person: attachments, letters, ZIPs. Never cached on the way, never sniffed."""

from __future__ import annotations

from typing import BinaryIO

from flask import Response, send_file


def private_file(data: BinaryIO, mimetype: str, filename: str) -> Response:
    """The file as a download under its own name; proxies and browsers keep no copy."""
    response = send_file(data, mimetype=mimetype, as_attachment=True, download_name=filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
