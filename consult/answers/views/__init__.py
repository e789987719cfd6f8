"""The answers feature's pages, one module per screen, all on one blueprint.

branch.py: the rounds put to a branch, the draft, the answer form, submit, withdraw, 「意見なし」, history.
board.py:  headquarters' board of who has answered, its CSV, and deadline extensions.
"""

from flask import Blueprint

bp = Blueprint("answers", __name__)

from consult.answers.views import board, branch, federation  # noqa: E402,F401  (the routes register on bp)
