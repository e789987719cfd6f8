"""One letter, many addressees: the differences of one addressee's letter as overrides of the shared letter.

``letter_diff(shared, variant)`` gives the Overrides that turn the shared letter into the variant, and
``apply_overrides(shared, overrides)`` applies them: ``apply_overrides(shared, letter_diff(shared, v)) == v`` for
any two letters (tests/test_letters_diffing.py). Both sides are plain-data Letters (consult.letters.document);
an ImportedLetter (docx_import) is taken through its ``to_letter()``.

The overrides are plain data made to be stored in a JSON column (``Overrides.to_dict()`` / ``from_dict()``):

    {"version": 1,
     "date": "2025年3月24日",                                  # the printed date, when it differs
     "addressee": {"honorific": "殿", "one_line": true},       # only the fields that differ
     "fields": {"title": "…"},                                 # title, sender_org, sender_title, sender_name
     "greeting": "…", "closing": "…",
     "paragraphs": [{"op": "replace", "at": 0, "text": "…", "was": "…"},   # background paragraphs, by the
                    {"op": "insert", "at": 1, "text": "…"},                 # index of the shared paragraph
                    {"op": "remove", "at": 2, "was": "…"}],                 # (insert: goes before that one)
     "extra_paragraphs": ["…"],
     "sections": [{"ref": 1, "items": [{"ref": [1, 0]}, {"ref": [1, 2], "text": "…"}, {"text": "…"}]},
                  {"ref": null, "heading": "…", "items": []}],
     "numbering": "circle", "fullwidth_digits": false}

- ``sections`` is present only when the requests differ. It is then the addressee's whole outline, by
  reference: each section names the shared section it comes from (``ref``, or null for a new one) and may
  reword its heading; each item names the shared item ``[section, item]`` it comes from and, only when
  reworded, carries its own ``text``; an item without ``ref`` is the addressee's own. That holds a subset, a
  different order, items moved between sections, reworded and added items, with no text stored twice.
- ``was`` keeps the shared text an edit was made against, so ``check_overrides`` can tell the editor when the
  shared letter has changed under an addressee's edit. ``apply_overrides`` never drops the addressee's own
  text: a replacement whose shared paragraph is gone is kept at the end.
- References are positions in the shared PrintedLetter as ``compose.build_letter`` orders it (the request items'
  order); a store that wants ids maps positions to request item ids when it saves and back when it applies.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from consult.letters import numbering
from consult.letters.document import PrintedAddressee, PrintedLetter, Section

VERSION = 1
ADDRESSEE_FIELDS = tuple(f.name for f in dataclasses.fields(PrintedAddressee))
LETTER_FIELDS = ("title", "sender_org", "sender_title", "sender_name")
_BOOLEAN_ADDRESSEE_FIELDS = ("one_line", "spread")
SIMILAR = 0.6  # how alike two texts must be to count as the same request reworded


@dataclass
class BodyEdit:
    """Replace or remove the shared background paragraph ``at``, or insert a paragraph before it."""

    op: str  # replace | insert | remove
    at: int
    text: str = ""
    was: str = ""


@dataclass
class ItemRef:
    """A request of the addressee's letter: a shared item ([section, item]) and/or its own wording."""

    ref: list[int] | None = None
    text: str | None = None


@dataclass
class SectionRef:
    """A section of the addressee's letter: the shared section it comes from, its heading if reworded, its items."""

    ref: int | None = None
    heading: str | None = None
    items: list[ItemRef] = field(default_factory=list)


@dataclass
class Overrides:
    """What one addressee's letter changes of the shared letter; None / empty = as shared."""

    date: str | None = None
    addressee: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    greeting: str | None = None
    paragraphs: list[BodyEdit] = field(default_factory=list)
    extra_paragraphs: list[str] | None = None
    closing: str | None = None
    sections: list[SectionRef] | None = None
    numbering: str | None = None
    fullwidth_digits: bool | None = None

    def is_empty(self) -> bool:
        return self == Overrides()

    def to_dict(self) -> dict:
        """The JSON form: only what is overridden, plus the format version."""
        data: dict = {"version": VERSION}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or value == {} or (f.name == "paragraphs" and not value):
                continue
            if f.name == "paragraphs":
                value = [_edit_dict(e) for e in value]
            elif f.name == "sections":
                value = [_section_dict(s) for s in value]
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Overrides:
        """Back from the JSON form; ValueError (Japanese) for anything that is not overrides of this version."""
        return _parse(data)


def _edit_dict(edit: BodyEdit) -> dict:
    data = {"op": edit.op, "at": edit.at}
    if edit.op != "remove":
        data["text"] = edit.text
    if edit.op != "insert":
        data["was"] = edit.was
    return data


def _section_dict(section: SectionRef) -> dict:
    data: dict = {"ref": section.ref}
    if section.heading is not None:
        data["heading"] = section.heading
    data["items"] = [{k: v for k, v in (("ref", i.ref), ("text", i.text)) if v is not None} for i in section.items]
    return data


# ---------------------------------------------------------------------------------------------------------------
# Diff


def _as_letter(letter) -> PrintedLetter:
    return letter.to_letter() if hasattr(letter, "to_letter") else letter


def letter_diff(shared, variant) -> Overrides:
    """The overrides that make the shared letter into the variant (either a PrintedLetter or an ImportedLetter)."""
    base, other = _as_letter(shared), _as_letter(variant)
    found = Overrides()
    if other.date_text != base.date_text:
        found.date = other.date_text
    found.addressee = {
        name: getattr(other.addressee, name)
        for name in ADDRESSEE_FIELDS
        if getattr(other.addressee, name) != getattr(base.addressee, name)
    }
    found.fields = {name: getattr(other, name) for name in LETTER_FIELDS if getattr(other, name) != getattr(base, name)}
    if other.greeting != base.greeting:
        found.greeting = other.greeting
    if other.closing != base.closing:
        found.closing = other.closing
    found.paragraphs = paragraph_edits(base.paragraphs, other.paragraphs)
    if other.extra_paragraphs != base.extra_paragraphs:
        found.extra_paragraphs = list(other.extra_paragraphs)
    if other.sections != base.sections:
        found.sections = section_refs(base.sections, other.sections)
    if other.numbering != base.numbering:
        found.numbering = other.numbering
    if other.fullwidth_digits != base.fullwidth_digits:
        found.fullwidth_digits = other.fullwidth_digits
    return found


def paragraph_edits(base: list[str], other: list[str]) -> list[BodyEdit]:
    """Replace / insert / remove edits, by the index of the shared paragraph, that turn base into other."""
    edits: list[BodyEdit] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, base, other, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)
        edits.extend(BodyEdit("replace", i1 + k, other[j1 + k], base[i1 + k]) for k in range(paired))
        edits.extend(BodyEdit("remove", i, was=base[i]) for i in range(i1 + paired, i2))
        edits.extend(BodyEdit("insert", i2, text) for text in other[j1 + paired : j2])
    return edits


def _similarity(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return 0.0
    return matcher.ratio()


def _section_pairs(base: list[Section], other: list[Section]) -> dict[int, int]:
    """Which shared section each of the variant's sections comes from: alike headings, or shared requests."""
    scores = []
    for v, vs in enumerate(other):
        for b, bs in enumerate(base):
            heading = 1.0 if vs.heading == bs.heading else _similarity(vs.heading, bs.heading)
            union = set(vs.items) | set(bs.items)
            overlap = len(set(vs.items) & set(bs.items)) / len(union) if union else 0.0
            if vs.heading or bs.heading or overlap:
                scores.append((heading + overlap, v, b))
    pairs: dict[int, int] = {}
    for score, v, b in sorted(scores, key=lambda s: (-s[0], s[1], s[2])):
        if score >= SIMILAR and v not in pairs and b not in pairs.values():
            pairs[v] = b
    return pairs


def section_refs(base: list[Section], other: list[Section]) -> list[SectionRef]:
    """The variant's whole outline by reference to the shared one (see the module docstring)."""
    pairs = _section_pairs(base, other)
    free = {(s, i): text for s, section in enumerate(base) for i, text in enumerate(section.items)}
    chosen: dict[tuple[int, int], tuple[int, int]] = {}  # (variant section, item) -> shared (section, item)

    def take(v: int, j: int, text: str, candidates, exact: bool) -> None:
        best, best_score = None, 0.0
        for key in candidates:
            if key not in free:
                continue
            score = 1.0 if free[key] == text else (0.0 if exact else _similarity(free[key], text))
            if score > best_score and (score == 1.0 or not exact):
                best, best_score = key, score
                if score == 1.0:
                    break
        if best is not None and best_score >= SIMILAR:
            chosen[(v, j)] = best
            del free[best]

    for exact in (True, False):  # same wording first, in the paired section, then anywhere; then reworded ones
        for scope in ("paired", "anywhere"):
            for v, section in enumerate(other):
                for j, text in enumerate(section.items):
                    if (v, j) in chosen:
                        continue
                    keys = [k for k in free if scope == "anywhere" or k[0] == pairs.get(v)]
                    take(v, j, text, keys, exact)
    refs = []
    for v, section in enumerate(other):
        b = pairs.get(v)
        heading = None if b is not None and base[b].heading == section.heading else section.heading
        items = []
        for j, text in enumerate(section.items):
            key = chosen.get((v, j))
            if key is None:
                items.append(ItemRef(None, text))
            else:
                items.append(ItemRef(list(key), None if base[key[0]].items[key[1]] == text else text))
        refs.append(SectionRef(b, heading, items))
    return refs


# ---------------------------------------------------------------------------------------------------------------
# Apply


def apply_overrides(shared, overrides: Overrides | dict) -> PrintedLetter:
    """The addressee's letter: the shared letter with the overrides applied (a dict is read with from_dict)."""
    base = _as_letter(shared)
    o = Overrides.from_dict(overrides) if isinstance(overrides, dict) else overrides
    addressee = dataclasses.replace(base.addressee, **o.addressee)
    letter = dataclasses.replace(
        base,
        addressee=addressee,
        paragraphs=apply_paragraph_edits(base.paragraphs, o.paragraphs),
        sections=[Section(s.heading, list(s.items)) for s in base.sections]
        if o.sections is None
        else apply_section_refs(base.sections, o.sections),
        **o.fields,
    )
    for name in ("greeting", "closing", "numbering", "fullwidth_digits"):
        if getattr(o, name) is not None:
            setattr(letter, name, getattr(o, name))
    if o.date is not None:
        letter.date_text = o.date
    if o.extra_paragraphs is not None:
        letter.extra_paragraphs = list(o.extra_paragraphs)
    else:
        letter.extra_paragraphs = list(base.extra_paragraphs)
    return letter


def apply_paragraph_edits(base: list[str], edits: list[BodyEdit]) -> list[str]:
    inserts: dict[int, list[str]] = defaultdict(list)
    replaced: dict[int, str] = {}
    removed: set[int] = set()
    for edit in edits:
        if edit.op == "insert":
            inserts[min(edit.at, len(base))].append(edit.text)
        elif edit.op == "replace" and edit.at < len(base):
            replaced[edit.at] = edit.text
        elif edit.op == "replace":
            inserts[len(base)].append(edit.text)  # the shared paragraph is gone: the addressee's text stays
        else:
            removed.add(edit.at)
    out: list[str] = []
    for i in range(len(base) + 1):
        out.extend(inserts.get(i, ()))
        if i < len(base) and i not in removed:
            out.append(replaced.get(i, base[i]))
    return out


def _shared_item(base: list[Section], ref: list[int] | None) -> str | None:
    if ref is None or not (0 <= ref[0] < len(base) and 0 <= ref[1] < len(base[ref[0]].items)):
        return None
    return base[ref[0]].items[ref[1]]


def apply_section_refs(base: list[Section], refs: list[SectionRef]) -> list[Section]:
    sections = []
    for ref in refs:
        shared = base[ref.ref] if ref.ref is not None and 0 <= ref.ref < len(base) else None
        heading = ref.heading if ref.heading is not None else (shared.heading if shared else "")
        items = [item.text if item.text is not None else _shared_item(base, item.ref) for item in ref.items]
        sections.append(Section(heading, [text for text in items if text is not None]))
    return sections


def check_overrides(shared, overrides: Overrides | dict) -> list[str]:
    """What no longer fits the shared letter (edited or shortened since), in Japanese, for the letter editor."""
    base = _as_letter(shared)
    o = Overrides.from_dict(overrides) if isinstance(overrides, dict) else overrides
    problems = []
    for edit in o.paragraphs:
        if edit.op == "insert":
            continue
        if edit.at >= len(base.paragraphs):
            problems.append(f"本文の第{edit.at + 1}段落は共通の要請書にもうありません（この要請先の変更: {edit.op}）。")
        elif base.paragraphs[edit.at] != edit.was:
            problems.append(f"本文の第{edit.at + 1}段落は、この要請先の変更のあとで共通の要請書が書き換えられました。")
    for section in o.sections or []:
        if section.ref is not None and not 0 <= section.ref < len(base.sections):
            problems.append(f"第{section.ref + 1}節は共通の要請書にもうありません。")
        for item in section.items:
            if item.ref is not None and _shared_item(base.sections, item.ref) is None:
                kept = "この要請先の文言は残ります" if item.text is not None else "この要請先の要請書から外れます"
                problems.append(
                    f"要請項目（{item.ref[0] + 1}-{item.ref[1] + 1}）は共通の要請書にもうありません（{kept}）。"
                )
    if o.numbering is not None and o.numbering not in numbering.STYLES:
        problems.append(f"番号の書式 {o.numbering!r} はありません。")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Reading the JSON form


def _fail(what: str):
    raise ValueError(f"要請先ごとの変更（overrides）の形式が正しくありません: {what}")


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        _fail(f"{what} は文字列でなければなりません。")
    return value


def _index(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _fail(f"{what} は 0 以上の整数でなければなりません。")
    return value


def _parse(data) -> Overrides:
    if not isinstance(data, dict):
        _fail("辞書（JSON オブジェクト）ではありません。")
    if data.get("version", VERSION) != VERSION:
        _fail(f"version {data.get('version')!r} には対応していません。")
    known = {f.name for f in dataclasses.fields(Overrides)} | {"version"}
    if set(data) - known:
        _fail(f"知らない項目 {sorted(set(data) - known)} があります。")
    o = Overrides()
    for name in ("date", "greeting", "closing", "numbering"):
        if data.get(name) is not None:
            setattr(o, name, _text(data[name], name))
    if data.get("fullwidth_digits") is not None:
        if not isinstance(data["fullwidth_digits"], bool):
            _fail("fullwidth_digits は true / false です。")
        o.fullwidth_digits = data["fullwidth_digits"]
    o.addressee = _parse_fields(data.get("addressee") or {}, ADDRESSEE_FIELDS, "addressee")
    o.fields = _parse_fields(data.get("fields") or {}, LETTER_FIELDS, "fields")
    o.paragraphs = [_parse_edit(e) for e in _list(data.get("paragraphs") or [], "paragraphs")]
    if data.get("extra_paragraphs") is not None:
        o.extra_paragraphs = [_text(p, "extra_paragraphs") for p in _list(data["extra_paragraphs"], "extra")]
    if data.get("sections") is not None:
        o.sections = [_parse_section(s) for s in _list(data["sections"], "sections")]
    return o


def _list(value, what: str) -> list:
    if not isinstance(value, list):
        _fail(f"{what} はリストでなければなりません。")
    return value


def _parse_fields(value, allowed: tuple[str, ...], what: str) -> dict:
    if not isinstance(value, dict) or set(value) - set(allowed):
        _fail(f"{what} に使える項目は {', '.join(allowed)} です。")
    for name, field_value in value.items():
        wanted = bool if name in _BOOLEAN_ADDRESSEE_FIELDS else str
        if not isinstance(field_value, wanted):
            _fail(f"{what}.{name} の型が違います。")
    return dict(value)


def _parse_edit(value) -> BodyEdit:
    if not isinstance(value, dict) or value.get("op") not in ("replace", "insert", "remove"):
        _fail("paragraphs の op は replace / insert / remove です。")
    return BodyEdit(
        value["op"],
        _index(value.get("at"), "paragraphs.at"),
        _text(value.get("text", ""), "text"),
        _text(value.get("was", ""), "was"),
    )


def _parse_ref(value) -> list[int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        _fail("items.ref は [節, 項目] の 2 つの整数です。")
    return [_index(value[0], "items.ref"), _index(value[1], "items.ref")]


def _parse_section(value) -> SectionRef:
    if not isinstance(value, dict):
        _fail("sections の要素は辞書です。")
    ref = None if value.get("ref") is None else _index(value["ref"], "sections.ref")
    heading = None if value.get("heading") is None else _text(value["heading"], "heading")
    items = []
    for item in _list(value.get("items", []), "items"):
        if not isinstance(item, dict):
            _fail("items の要素は辞書です。")
        text = None if item.get("text") is None else _text(item["text"], "items.text")
        ref_item = _parse_ref(item.get("ref"))
        if text is None and ref_item is None:
            _fail("items の要素には ref か text が要ります。")
        items.append(ItemRef(ref_item, text))
    if ref is None and heading is None:
        heading = ""
    return SectionRef(ref, heading, items)


# ---------------------------------------------------------------------------------------------------------------
# For display


def char_diff(a: str, b: str) -> list[tuple[str, str]]:
    """(op, text) runs from a to b, character by character: op is equal, delete or insert (a change = both)."""
    runs: list[tuple[str, str]] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if runs and runs[-1][0] == op:
            runs[-1] = (op, runs[-1][1] + text)
        else:
            runs.append((op, text))

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("equal", a[i1:i2])
        else:
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return runs
