"""Aggregation pages (placeholder: filled by the aggregation work)."""

from flask import Blueprint

bp = Blueprint("aggregation", __name__, url_prefix="/rounds")
