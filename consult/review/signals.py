"""Events of the review feature that later features (notifications) act on, without importing them.

Sent inside the request's transaction after the change is flushed: a receiver records what it needs (a notice
row) in the same transaction, so a rolled-back change notifies no one.
"""

from blinker import Namespace

_signals = Namespace()

answers_published = _signals.signal(
    "answers-published",
    doc="""
    Sender: the Round whose answer table (本部の考え方) was published to its branches. Keyword arguments: user,
    now (UTC).""",
)
