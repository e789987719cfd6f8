"""Domain errors that views turn into messages next to the form (and the API into problem documents)."""


class DomainError(Exception):
    """A rule refused the change; str() is the message for the user.

    keeps_changes: the operation wrote something on purpose before refusing (see core.transaction.refused).
    kind: what sort of refusal it is — "invalid" (the input breaks a rule), "conflict" (someone else changed it
    first), "state" (not possible in the object's current state), "late" (after the deadline). The API answers
    422 for the first and 409 for the others.
    """

    keeps_changes = False
    kind = "invalid"


class ConflictError(DomainError):
    """Someone else saved first; carries what is stored now so both versions can be shown."""

    kind = "conflict"

    def __init__(self, message: str, current=None):
        super().__init__(message)
        self.current = current


class TransitionError(DomainError):
    """A state change not allowed from the current state."""

    kind = "state"


class TranslatedError(DomainError):
    """A refusal whose message (a lazy_gettext string with %(name)s fields) is translated when it is shown,
    in the language of the request that shows it; raising it needs no request."""

    message = ""

    def __init__(self, message=None, **values):
        if message is not None:
            self.message = message
        self.values = values
        super().__init__(self.message)

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.values if self.values else text


class RowErrors(DomainError):
    """Some rows of an import are wrong; nothing was written. Each message names its line."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors
