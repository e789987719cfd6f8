"""The receivers of the lower features' events: each writes notice rows in the transaction of the change.

Connected when this module is imported (consult/notify/models.py imports it, so create_app connects them).
The sub-round signal belongs to the federation feature: connected when it exists.
"""

from __future__ import annotations

from consult.answers import signals as answer_signals
from consult.notify import operations as ops
from consult.review import signals as review_signals
from consult.rounds import signals as round_signals


def on_round_opened(round_, *, user=None, now, **_):
    ops.round_opened(round_, now)


def on_subround_opened(round_, *, user=None, now, **_):
    ops.round_opened(round_, now, kind="subround_opened")


def on_extension_granted(round_, *, organization_id, user=None, now, **_):
    ops.extension_granted(round_, organization_id, now)


def on_answer_submitted(answer, *, user=None, now, late=False, **_):
    ops.answer_event(answer, "late_answer" if late else "answer_submitted", now)


def on_answer_withdrawn(answer, *, user=None, now, **_):
    ops.answer_event(answer, "answer_withdrawn", now)


def on_answers_published(round_, *, user=None, now, **_):
    ops.answers_published(round_, now)


def on_opinion_changed(opinion, *, answer, user=None, now, **_):
    ops.opinion_changed(opinion, answer, now)


round_signals.round_opened.connect(on_round_opened)
round_signals.extension_granted.connect(on_extension_granted)
answer_signals.answer_submitted.connect(on_answer_submitted)
answer_signals.answer_withdrawn.connect(on_answer_withdrawn)
answer_signals.answered_opinion_changed.connect(on_opinion_changed)
review_signals.answers_published.connect(on_answers_published)
_subround_opened = getattr(round_signals, "subround_opened", None)  # the federation feature adds it
if _subround_opened is not None:
    _subround_opened.connect(on_subround_opened)
