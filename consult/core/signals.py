"""How a lower feature asks a higher one for facts without importing it: a blinker signal, answered by receivers.

The lower feature declares the signal in its own signals.py and calls answers(); the higher feature connects a
receiver at import. With no receiver connected, the asker gets no answers (and treats that as "none").
"""

from __future__ import annotations

from blinker import Signal


def answers(signal: Signal, sender, **kwargs) -> list:
    """Every receiver's return value, in the order they were connected."""
    return [value for _receiver, value in signal.send(sender, **kwargs)]
