"""Headquarters' pages for request campaigns, one module per screen, all on one blueprint (headquarters only).

campaigns.py: the list, a new campaign, a campaign's page (its letters and addressees).
editor.py:    one letter: its text and numbering, its request items (add, edit, move, remove).
linking.py:   the opinions a request item rests on (link, unlink).
addressees.py: who receives which letter, whole or in part.
overrides.py: one addressee's own version of the letter (date, block, paragraphs, closing, numbering, items).
copying.py:   copies of a campaign, a letter or an addressee with a new date.
importing.py: a Word letter uploaded, shown as recognised, then saved.
documents.py: the preview, the DOCX of one addressee, the ZIP of a campaign, the Word template.
"""

from flask import Blueprint

from consult.core.access import require_hq

bp = Blueprint("letters", __name__, url_prefix="/campaigns")
require_hq(bp)

from consult.letters.views import (  # noqa: E402,F401  (routes)
    addressees,
    campaigns,
    copying,
    documents,
    editor,
    importing,
    linking,
    overrides,
)
