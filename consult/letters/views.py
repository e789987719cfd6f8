"""Request campaigns and letters pages (placeholder: filled by the letters work)."""

from flask import Blueprint

bp = Blueprint("letters", __name__, url_prefix="/campaigns")
