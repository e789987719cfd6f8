"""What the letters feature asks of the features after it, without importing them (core.signals.answers)."""

from blinker import Namespace

_signals = Namespace()

item_predecessors = _signals.signal(
    "request-item-predecessors",
    doc="""
    Sender: a list of request item ids. Return {item id: id of the request item it continues (last year's)}.""",
)
