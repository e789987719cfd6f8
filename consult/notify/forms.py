"""The reminder schedule form and the preference form."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import ValidationError

from consult.core.forms import CleanTextForm
from consult.notify.models import STEP_LIMIT, format_step

_STEP = re.compile(r"^\s*(\d{1,4})\s*(日|時間|分|d|h|m)\s*(前)?\s*$")
_UNITS = {"日": 1440, "d": 1440, "時間": 60, "h": 60, "分": 1, "m": 1}


def parse_steps(text: str) -> list[int]:
    """「7日, 1日, 3時間」 (or "7d, 1d, 3h") → minutes before the deadline, largest first."""
    parts = [p for p in re.split(r"[,、，\s]+(?=\d)", text.strip()) if p.strip()]
    steps = []
    for part in parts:
        match = _STEP.match(part)
        if not match:
            raise ValueError(part)
        minutes = int(match.group(1)) * _UNITS[match.group(2)]
        if minutes <= 0:
            raise ValueError(part)
        steps.append(minutes)
    return sorted(set(steps), reverse=True)


def steps_text(steps: list[int]) -> str:
    return "、".join(format_step(s).removesuffix("前") for s in steps)


class ScheduleForm(CleanTextForm):
    enabled = BooleanField(_l("締切前に自動で督促する"))
    steps = StringField(_l("督促する時期（締切の何日・何時間前か）"))

    def validate_steps(self, field):
        if not self.enabled.data:
            return
        try:
            parsed = parse_steps(field.data or "")
        except ValueError as exc:
            raise ValidationError(
                _("「%(part)s」を読めません。「7日、1日、3時間」のように書いてください。", part=str(exc))
            ) from exc
        if not parsed:
            raise ValidationError(_("督促する時期を一つ以上書いてください。例: 7日、1日、3時間"))
        if len(parsed) > STEP_LIMIT:
            raise ValidationError(_("督促は%(limit)s回までにしてください。", limit=STEP_LIMIT))
        if max(parsed) > 90 * 1440:
            raise ValidationError(_("督促の時期は締切の90日前までにしてください。"))
        self.parsed = parsed
