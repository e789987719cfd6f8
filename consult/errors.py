"""Domain errors that views turn into messages next to the form."""


class DomainError(Exception):
    """A rule refused the change; str() is the Japanese message for the user."""


class ConflictError(DomainError):
    """Someone else saved first; carries what is stored now so both versions can be shown."""

    def __init__(self, message: str, current=None):
        super().__init__(message)
        self.current = current


class TransitionError(DomainError):
    """A state change not allowed from the current state."""
