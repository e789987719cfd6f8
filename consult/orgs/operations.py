"""Bulk changes to the organisation tree; every row is checked before anything is written. Flush, never commit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from consult.core.errors import RowErrors
from consult.core.text import has_forbidden
from consult.extensions import db
from consult.orgs.models import CODE_LENGTH, CONTACT_EMAIL_LENGTH, KIND_LABELS, NAME_LENGTH, Organization

ORG_COLUMNS = ("code", "name", "kind", "parent_code")


@dataclass
class ImportSummary:
    """What an import did, for the message shown afterwards."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def by_line(errors: list[str]) -> list[str]:
    """Messages in the order of the lines they name."""

    def line(message: str) -> int:
        found = re.match(r"\D*(\d+)", message)  # 「3行目: …」 or "Line 3: …"
        return int(found.group(1)) if found else 0

    return sorted(errors, key=line)


def _check_text(errors: list[str], line: int, label: str, value: str, max_length: int, required: bool = True):
    if required and not value:
        errors.append(_("%(line)s行目: %(label)sが空です。", line=line, label=label))
    elif len(value) > max_length:
        errors.append(
            _(
                "%(line)s行目: %(label)sは%(max_length)s文字以内にしてください。",
                line=line,
                label=label,
                max_length=max_length,
            )
        )
    elif has_forbidden(value):
        errors.append(_("%(line)s行目: %(label)sに使えない制御文字が含まれています。", line=line, label=label))


def import_orgs(rows: list[tuple[int, dict[str, str]]]) -> ImportSummary:
    """Create or update organisations by code; parents may come later in the file or exist already."""
    existing = {org.code: org for org in db.session.scalars(select(Organization))}
    errors: list[str] = []
    seen: dict[str, int] = {}
    file_codes = {row.get("code") for _line, row in rows}
    for line, row in rows:
        code, name, kind, parent = (row.get(k, "") for k in ORG_COLUMNS)
        _check_text(errors, line, _("組織コード"), code, CODE_LENGTH)
        _check_text(errors, line, _("組織名"), name, NAME_LENGTH)
        if kind not in KIND_LABELS:
            errors.append(
                _(
                    "%(line)s行目: 種別「%(kind)s」は使えません（hq, prefecture, local, council のいずれか）。",
                    line=line,
                    kind=kind,
                )
            )
        if code and code in seen:
            errors.append(
                _(
                    "%(line)s行目: 組織コード %(code)s は%(seen_code)s行目と重複しています。",
                    line=line,
                    code=code,
                    seen_code=seen[code],
                )
            )
        elif code:
            seen[code] = line
        if parent and parent == code:
            errors.append(_("%(line)s行目: 組織 %(code)s を自分自身の親にはできません。", line=line, code=code))
        elif parent and parent not in existing and parent not in file_codes:
            errors.append(_("%(line)s行目: 親組織コード %(parent)s が見つかりません。", line=line, parent=parent))
        contact = row.get("contact_email", "")
        if contact:
            _check_text(errors, line, _("連絡先メールアドレス"), contact, CONTACT_EMAIL_LENGTH, required=False)
            if "@" not in contact or " " in contact:
                errors.append(
                    _("%(line)s行目: 連絡先メールアドレス「%(value)s」が正しくありません。", line=line, value=contact)
                )
        if kind == "hq" and parent:
            errors.append(_("%(line)s行目: 本部（hq）には親組織を指定できません。", line=line))
        if kind and kind != "hq" and kind in KIND_LABELS and not parent:
            errors.append(_("%(line)s行目: 親組織コードが空です（親がないのは本部だけです）。", line=line))
    errors.extend(_tree_errors(rows, existing))
    if errors:
        raise RowErrors(by_line(errors))
    return _write_orgs(rows, existing)


def _tree_errors(rows, existing: dict[str, Organization]) -> list[str]:
    """One root at most, and no organisation its own ancestor once the file is applied."""
    code_of = {org.id: org.code for org in existing.values()}
    parent_of = {code: code_of.get(org.parent_id) for code, org in existing.items()}
    for _line, row in rows:
        parent_of[row.get("code", "")] = row.get("parent_code") or None
    errors = []
    roots = {code for code, parent in parent_of.items() if parent is None}
    for line, row in rows:
        if row.get("kind") == "hq" and not row.get("parent_code") and len(roots) > 1:
            others = ", ".join(sorted(roots - {row.get("code")}))
            errors.append(
                _(
                    "%(line)s行目: 本部（親のない組織）は一つだけです。既に %(others)s があります。",
                    line=line,
                    others=others,
                )
            )
    reported: set[frozenset] = set()
    for line, row in rows:
        code = row.get("code", "")
        path, current = [], code
        while current is not None and current not in path:
            path.append(current)
            current = parent_of.get(current)
        if current != code or len(path) < 2:
            continue  # no loop, a self-parent (reported above), or a loop this row only leads into
        if frozenset(path) not in reported:
            reported.add(frozenset(path))
            errors.append(
                _(
                    "%(line)s行目: 親組織をたどると元に戻ります（%(join_path_code)s）。",
                    line=line,
                    join_path_code=" → ".join(path + [code]),
                )
            )
    return errors


def _write_orgs(rows, existing: dict[str, Organization]) -> ImportSummary:
    summary = ImportSummary()
    by_code = dict(existing)
    position = db.session.scalar(select(func.max(Organization.position))) or 0
    for _line, row in rows:
        code = row["code"]
        if code not in by_code:
            position += 1
            by_code[code] = Organization(code=code, name=row["name"], kind=row["kind"], position=position)
            db.session.add(by_code[code])
            summary.created.append(code)
    for _line, row in rows:
        org = by_code[row["code"]]
        parent = by_code[row["parent_code"]] if row["parent_code"] else None
        before = (org.name, org.kind, org.parent, org.contact_email)
        org.name, org.kind, org.parent = row["name"], row["kind"], parent
        if "contact_email" in row:  # the optional column: an office's shared address, told of its notices
            org.contact_email = row["contact_email"] or None
        if row["code"] not in summary.created:
            (
                summary.updated if before != (org.name, org.kind, org.parent, org.contact_email) else summary.unchanged
            ).append(org.code)
    db.session.flush()
    return summary
