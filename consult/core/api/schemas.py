"""The API's building blocks for schemas: fields with Japanese messages, Japan-time timestamps, checked text, pages.

Every request body and query of the API is a Schema built from these fields; the same schemas validate the
request and describe it in the OpenAPI document, so the two cannot drift apart.

- Times go out as ISO 8601 in Japan time (2025-03-17T17:00:00+09:00). Any offset is accepted on input; a time
  without an offset is read as Japan time, as the web forms read what people type.
- Text refuses what no document can hold (core.text.has_forbidden: control characters, lone surrogates,
  noncharacters) instead of dropping it, and stores line ends as \\n.
- Lists that can reach 150,000 rows are paged by cursor: {"items": [...], "next_cursor": "…" or null}; pass
  next_cursor back as ?cursor= for the next page. Pages are in id order, so new rows never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from consult.core.clock import JST, to_jst
from consult.core.text import has_forbidden, normalise_newlines

YEARS = (1900, 2100)
MAX_ID = 2**31 - 1
PAGE_LIMIT = 500
PAGE_DEFAULT = 100

_COMMON = {
    "required": _l("この項目は必須です。"),
    "null": _l("null は使えません。"),
    "validator_failed": _l("値が正しくありません。"),
}


class _Japanese:
    """Field messages through Flask-Babel (Japanese source), formatted when raised."""

    def make_error(self, key: str, **kwargs) -> ma.ValidationError:
        message = self.error_messages[key]
        return ma.ValidationError(str(message).format(**kwargs))


class Schema(ma.Schema):
    """Unknown fields are refused, so a typo in a field name is never silently ignored."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {
        "unknown": _l("この項目名は使えません。"),
        "type": _l("JSON のオブジェクトで送ってください。"),
    }


class Integer(_Japanese, ma.fields.Integer):
    default_error_messages = {**_COMMON, "invalid": _l("整数で入力してください。"), "too_large": _l("大きすぎます。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)  # "12" is not an integer in JSON; query parameters pass strict=False
        super().__init__(**kwargs)


class Number(_Japanese, ma.fields.Float):
    """A finite number (an indicator's target or actual): NaN and infinities are refused."""

    default_error_messages = {
        **_COMMON,
        "invalid": _l("数値で入力してください。"),
        "special": _l("数値で入力してください。"),
        "too_large": _l("大きすぎます。"),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_nan", False)
        kwargs.setdefault("validate", validate.Range(min=-1e12, max=1e12, error=_l("大きすぎます。")))
        super().__init__(**kwargs)


def at_least(minimum: int) -> validate.Range:
    """A lower bound with its message in Japanese (and `minimum` in the OpenAPI document)."""
    return validate.Range(min=minimum, max=MAX_ID, error=_l("{min} から {max} までの整数にしてください。"))


class Id(Integer):
    """A row id: positive and within the database's integer range."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(1, MAX_ID, error=_l("正しい ID ではありません。")))
        super().__init__(**kwargs)


class Boolean(_Japanese, ma.fields.Boolean):
    default_error_messages = {**_COMMON, "invalid": _l("true か false で指定してください。")}


class String(_Japanese, ma.fields.String):
    """Text as typed: line ends stored as \\n; characters no document can hold are refused, never dropped."""

    default_error_messages = {
        **_COMMON,
        "invalid": _l("文字列で入力してください。"),
        "invalid_utf8": _l("UTF-8 の文字列で入力してください。"),
        "illegal": _l("使えない制御文字が含まれています。取り除いてから送ってください。"),
        "too_long": _l("{max}文字以内にしてください（{length}文字あります）。"),
        "blank": _l("空にはできません。"),
    }

    def __init__(self, max_length: int | None = None, *, blank: bool = True, strip: bool = False, **kwargs):
        self.max_length, self.allow_blank, self.strip = max_length, blank, strip
        if max_length is not None:
            kwargs.setdefault("metadata", {}).setdefault("maxLength", max_length)
        if not blank:
            kwargs.setdefault("metadata", {}).setdefault("minLength", 1)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_forbidden(text):
            raise self.make_error("illegal")
        text = normalise_newlines(text)
        if self.strip:
            text = text.strip()
        if not self.allow_blank and not text.strip():
            raise self.make_error("blank")
        if self.max_length is not None and len(text) > self.max_length:
            raise self.make_error("too_long", max=f"{self.max_length:,}", length=f"{len(text):,}")
        return text


class Choice(String):
    """One of a fixed set of keys (e.g. a stance), documented as an enum."""

    default_error_messages = {"not_one_of": _l("次のいずれかにしてください: {choices}")}

    def __init__(self, choices, **kwargs):
        self.choices = list(choices)
        # null is one of the documented values where the field takes it (OpenAPI 3.1 checks a default against enum)
        kwargs.setdefault("metadata", {})["enum"] = self.choices + ([None] if kwargs.get("allow_none") else [])
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in self.choices:
            raise self.make_error("not_one_of", choices=", ".join(self.choices))
        return text


class Time(_Japanese, ma.fields.DateTime):
    """ISO 8601 with an offset; +09:00 on output; without an offset on input, Japan time."""

    default_error_messages = {
        **_COMMON,
        "invalid": _l("日時は ISO 8601 で入力してください（例: 2025-03-17T17:00:00+09:00）。"),
        "range": _l("日時は{start}年から{end}年までにしてください。"),
    }

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return to_jst(value).isoformat(timespec="seconds")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if not YEARS[0] <= parsed.year <= YEARS[1]:
            raise self.make_error("range", start=YEARS[0], end=YEARS[1])
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=JST)
        return parsed.astimezone(UTC)


class Day(_Japanese, ma.fields.Date):
    default_error_messages = {
        **_COMMON,
        "invalid": _l("日付は 2025-03-17 のように入力してください。"),
        "range": _l("日付は{start}年から{end}年までにしてください。"),
    }

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not YEARS[0] <= parsed.year <= YEARS[1]:
            raise self.make_error("range", start=YEARS[0], end=YEARS[1])
        return parsed


class List(_Japanese, ma.fields.List):
    default_error_messages = {
        **_COMMON,
        "invalid": _l("配列で指定してください。"),
        "too_long": _l("{max}件までにしてください。"),
    }

    def __init__(self, inner, max_items: int | None = None, **kwargs):
        self.max_items = max_items
        if max_items is not None:
            kwargs.setdefault("metadata", {}).setdefault("maxItems", max_items)
        super().__init__(inner, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if self.max_items is not None and isinstance(value, list) and len(value) > self.max_items:
            raise self.make_error("too_long", max=self.max_items)
        return super()._deserialize(value, attr, data, **kwargs)


class Nested(_Japanese, ma.fields.Nested):
    default_error_messages = {**_COMMON, "type": _l("JSON のオブジェクトで送ってください。")}


class Dict(_Japanese, ma.fields.Dict):
    default_error_messages = {**_COMMON, "invalid": _l("JSON のオブジェクトで送ってください。")}


class MoveSchema(Schema):
    """Swap with the neighbour above (up) or below (down)."""

    direction = Choice(["up", "down"], required=True)


# ---------------------------------------------------------------- cursor pages


class PageArgs(Schema):
    """?cursor= (from the previous page's next_cursor) and ?limit= (1–500, 100 by default)."""

    cursor = String(max_length=200, metadata={"description": "前のページの next_cursor（最初のページでは省略）"})
    limit = Integer(
        strict=False,
        load_default=PAGE_DEFAULT,
        validate=validate.Range(1, PAGE_LIMIT, error=_l("{min} から {max} の間で指定してください。")),
        metadata={"description": "1ページの件数（1〜500、既定は100）"},
    )


class CursorError(ValueError):
    """A cursor that was not made by this API."""


def encode_cursor(after_id: int) -> str:
    """An opaque cursor for the rows after this id."""
    return base64.urlsafe_b64encode(json.dumps({"after": after_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor continues after (0 for the first page)."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise CursorError(cursor) from exc
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_ID:
        raise CursorError(cursor)
    return after


_page_schemas: dict[type, type] = {}


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The schema of one cursor page of item_schema rows (one class per item schema, named after it)."""
    if item_schema not in _page_schemas:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _page_schemas[item_schema] = type(
            name,
            (Schema,),
            {
                "items": List(Nested(item_schema), required=True),
                "next_cursor": String(
                    allow_none=True, required=True, metadata={"description": "次のページのカーソル（最後なら null）"}
                ),
            },
        )
    return _page_schemas[item_schema]
