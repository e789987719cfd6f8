"""Bulk changes to the organisation tree; every row is checked before anything is written. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from consult.core.errors import RowErrors
from consult.core.text import has_forbidden
from consult.extensions import db
from consult.orgs.models import CODE_LENGTH, KIND_LABELS, NAME_LENGTH, Organization

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
        head = message.split("行目", 1)[0]
        return int(head) if head.isdigit() else 0

    return sorted(errors, key=line)


def _check_text(errors: list[str], line: int, label: str, value: str, max_length: int, required: bool = True):
    if required and not value:
        errors.append(f"{line}行目: {label}が空です。")
    elif len(value) > max_length:
        errors.append(f"{line}行目: {label}は{max_length}文字以内にしてください。")
    elif has_forbidden(value):
        errors.append(f"{line}行目: {label}に使えない制御文字が含まれています。")


def import_orgs(rows: list[tuple[int, dict[str, str]]]) -> ImportSummary:
    """Create or update organisations by code; parents may come later in the file or exist already."""
    existing = {org.code: org for org in db.session.scalars(select(Organization))}
    errors: list[str] = []
    seen: dict[str, int] = {}
    file_codes = {row.get("code") for _, row in rows}
    for line, row in rows:
        code, name, kind, parent = (row.get(k, "") for k in ORG_COLUMNS)
        _check_text(errors, line, "組織コード", code, CODE_LENGTH)
        _check_text(errors, line, "組織名", name, NAME_LENGTH)
        if kind not in KIND_LABELS:
            errors.append(f"{line}行目: 種別「{kind}」は使えません（hq, prefecture, local, council のいずれか）。")
        if code and code in seen:
            errors.append(f"{line}行目: 組織コード {code} は{seen[code]}行目と重複しています。")
        elif code:
            seen[code] = line
        if parent and parent == code:
            errors.append(f"{line}行目: 組織 {code} を自分自身の親にはできません。")
        elif parent and parent not in existing and parent not in file_codes:
            errors.append(f"{line}行目: 親組織コード {parent} が見つかりません。")
        if kind == "hq" and parent:
            errors.append(f"{line}行目: 本部（hq）には親組織を指定できません。")
        if kind and kind != "hq" and kind in KIND_LABELS and not parent:
            errors.append(f"{line}行目: 親組織コードが空です（親がないのは本部だけです）。")
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
            errors.append(f"{line}行目: 本部（親のない組織）は一つだけです。既に {others} があります。")
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
            errors.append(f"{line}行目: 親組織をたどると元に戻ります（{' → '.join(path + [code])}）。")
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
        before = (org.name, org.kind, org.parent)
        org.name, org.kind, org.parent = row["name"], row["kind"], parent
        if row["code"] not in summary.created:
            (summary.updated if before != (org.name, org.kind, org.parent) else summary.unchanged).append(org.code)
    db.session.flush()
    return summary
