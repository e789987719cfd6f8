"""What the round pages and rules need to know of the answers, asked without importing the answers feature.

The answers feature connects a receiver to each (consult/answers/queries.py); consult.rounds.queries merges
what they return.
"""

from blinker import Namespace

_signals = Namespace()

answered_organizations = _signals.signal(
    "answered-organizations",
    doc="""
    Sender: a Round. Return the ids of the organisations that have an answer to it (they stay targets).""",
)
opinion_counts = _signals.signal(
    "opinion-counts",
    doc="""
    Sender: a Round. Return {item id: number of opinions} (an item with opinions is withdrawn, never deleted).""",
)
answer_states = _signals.signal(
    "answer-states",
    doc="""
    Sender: a Round. Return {state: number of target organisations}, states "submitted", "no_opinion", "draft".""",
)
submitted_counts = _signals.signal(
    "submitted-counts",
    doc="""
    Sender: a list of round ids. Return {round id: number of submitted answers}.""",
)

# ---------------------------------------------------------------- events (issue 10)

subround_opened = _signals.signal(
    "subround-opened",
    doc="""
    Sender: the sub-Round a prefecture (an inner node) has just opened among its descendants; keyword arguments
    user (who opened it) and now. Sent once, by rounds.operations.open_subround, after the flush.""",
)

# Events of the rounds feature that later features (notifications) act on. Sent inside the request's
# transaction after the change is flushed: a receiver records what it needs in the same transaction.
round_opened = _signals.signal(
    "round-opened",
    doc="""
    Sender: the Round just opened (draft → open). Keyword arguments: user, now (UTC).""",
)
extension_granted = _signals.signal(
    "extension-granted",
    doc="""
    Sender: the Round. Keyword arguments: organization_id (who got more time), user, now (UTC).""",
)
