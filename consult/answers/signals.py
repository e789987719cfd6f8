"""Events of the answers feature that later features (notifications) act on, without the answers feature
importing them: they connect a receiver to the signal.

answered_opinion_changed is sent inside the request's transaction, after the change is flushed and before it
is committed: a receiver that sends e-mail should record the notice in the same transaction (a row a job
runner sends later), so that a refused or rolled-back save never notifies anyone.
"""

from blinker import Namespace

_signals = Namespace()

answered_opinion_changed = _signals.signal(
    "answered-opinion-changed",
    doc="""
    Sender: the Opinion a branch changed after headquarters answered it (opinion.answered_version() is the
    wording that was answered). Keyword arguments: answer (the Answer), user (who saved), now (UTC).""",
)

opinion_rows_written = _signals.signal(
    "opinion-rows-written",
    doc="""
    Sender: the Answer whose opinions on items were written as rows (Core INSERT/UPDATE/DELETE, which ORM flush
    events do not see). Keyword arguments: deleted (ids of the opinions deleted). Sent in the save's transaction,
    after the rows are written: the search index (review/search.py) indexes the answer's opinions again.""",
)

answer_submitted = _signals.signal(
    "answer-submitted",
    doc="""
    Sender: the Answer submitted (with opinions, or 「意見なし」), or kept as a late draft after the deadline.
    Keyword arguments: user, now (UTC), late (True when it arrived after the round's own deadline).""",
)
answer_withdrawn = _signals.signal(
    "answer-withdrawn",
    doc="""
    Sender: the Answer taken back to draft. Keyword arguments: user, now (UTC).""",
)
