"""Imports every feature's models so the metadata (and migrations) see all tables."""

from consult.audit.models import AuditEvent  # noqa: F401
from consult.auth.models import User  # noqa: F401
from consult.letters.models import (  # noqa: F401
    Addressee,
    AddresseeItem,
    Campaign,
    Letter,
    LetterTemplate,
    RequestItem,
    RequestItemOpinion,
)
from consult.opinions.models import Answer, AnswerEvent, Opinion  # noqa: F401
from consult.orgs.models import Organization  # noqa: F401
from consult.rounds.models import (  # noqa: F401
    Attachment,
    DeadlineExtension,
    ItemRevision,
    Milestone,
    Round,
    RoundItem,
    RoundTarget,
)
