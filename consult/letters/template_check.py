"""Check a replacement letter template before it is accepted, so a bad upload is refused with a clear reason."""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
import zipfile

from docx.oxml.ns import qn
from flask_babel import gettext as _

from consult.core.zipguard import BROKEN, ZipRefused, check_zip
from consult.letters.document import sample_letter
from consult.letters.render import (
    PLACEHOLDER,
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    open_template,
    paragraph_text,
    render_letter,
)

_SAMPLE = "{{ " + PLACEHOLDER + " }}"
# Placeholders typed with full-width braces by an input method (｛｛ content ｝｝, ｛{ content }｝ ...).
_WIDE_BRACES = re.compile(r"[{｛][{｛][^{}｛｝\n]*?[}｝][}｝]")
_PERCENT = re.compile(r"[{｛][ \t　]*[%％]|[%％][ \t　]*[}｝]")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_FOOTER = ("header", "footer")


def check_template(docx_bytes: bytes) -> list[str]:
    """Japanese messages naming every problem of an uploaded template; an empty list means it can be used."""
    problem = _not_docx(docx_bytes)
    if problem:
        return [problem]
    try:
        document = open_template(docx_bytes)
    except ValueError as exc:
        return [_content_type_message(str(exc))]
    except Exception:  # noqa: BLE001 - any failure to read means the file is not a usable Word document
        return [_("Word 文書（.docx）として読み込めませんでした。Word で開いて「名前を付けて保存」し直してください。")]

    messages: list[str] = []
    body_placeholders = 0
    for where, p in _paragraphs(document):
        text = paragraph_text(p)
        messages.extend(_check_text(text))
        for match in PLACEHOLDER_RE.finditer(text):
            if match.group(1) != PLACEHOLDER:
                continue
            if where != "body":
                messages.append(
                    _("%(sample)s がヘッダーまたはフッターにあります。本文の中に置いてください。", sample=_SAMPLE)
                )
            elif _in_text_box(p):
                messages.append(
                    _("%(sample)s がテキストボックスの中にあります。本文の段落に置いてください。", sample=_SAMPLE)
                )
            elif text.strip() != match.group(0):
                messages.append(
                    _(
                        "%(sample)s は他の文字を入れず、それだけで一つの段落にしてください（「%(text_strip)s」）。",
                        sample=_SAMPLE,
                        text_strip=text.strip(),
                    )
                )
            else:
                body_placeholders += 1
    if body_placeholders > 1:
        messages.append(
            _(
                "%(sample)s が %(body_placeholders)s か所にあります。一か所だけにしてください。",
                sample=_SAMPLE,
                body_placeholders=body_placeholders,
            )
        )

    if not messages:
        messages.extend(_trial_render(docx_bytes))
    return list(dict.fromkeys(messages))


def _not_docx(data: bytes) -> str | None:
    if not data:
        return _("ファイルが空です。Word 文書（.docx）を選んでください。")
    if data.startswith(_OLE_MAGIC):
        return _(
            "古い Word 形式（.doc）のファイルです。Word で開き、「Word 文書（*.docx）」として保存し直してください。"
        )
    if not data.startswith(b"PK"):
        return _("Word 文書（.docx）ではありません。Word で作成した .docx ファイルを選んでください。")
    try:
        check_zip(data)  # before any parser opens it: no zip bombs
    except ZipRefused as exc:
        if exc.message is BROKEN:
            return _("Word 文書（.docx）ではありません。ファイルが壊れている可能性があります。")
        return str(exc)
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile:
        return _("Word 文書（.docx）ではありません。ファイルが壊れている可能性があります。")
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        return _("Word 文書（.docx）ではありません（Excel や PowerPoint のファイルではありませんか）。")
    return None


def _content_type_message(detail: str) -> str:
    if "template" in detail:
        return _("Word テンプレート（.dotx）形式です。Word で開き、「Word 文書（*.docx）」として保存し直してください。")
    if "macroEnabled" in detail:
        return _("マクロ付きの Word 文書（.docm）は使えません。「Word 文書（*.docx）」として保存し直してください。")
    return _("Word 文書（.docx）として読み込めませんでした。Word で開いて「名前を付けて保存」し直してください。")


def _paragraphs(document):
    """('body' | 'header' | 'footer', w:p) for every paragraph, including tables and text boxes."""
    for p in document.element.body.iter(qn("w:p")):
        yield "body", p
    for part in document.part.package.iter_parts():
        kind = next((k for k in _HEADER_FOOTER if part.content_type.endswith(f".{k}+xml")), None)
        if kind is not None:
            for p in part.element.iter(qn("w:p")):
                yield kind, p


def _in_text_box(p) -> bool:
    return any(a.tag == qn("w:txbxContent") for a in p.iterancestors())


def _check_text(text: str) -> list[str]:
    """Messages about placeholders in one paragraph's text (runs already joined, as Word may split them)."""
    messages = []
    for match in _WIDE_BRACES.finditer(text):
        if re.search("[｛｝]", match.group(0)):
            messages.append(
                _(
                    "全角の括弧で入力された差し込み項目「%(match_group_0)s」があります。"
                    "半角の %(sample)s で入力し直してください（日本語入力をオフにして入力します）。",
                    match_group_0=match.group(0),
                    sample=_SAMPLE,
                )
            )
    for match in _PERCENT.finditer(text):
        wide = _("全角の「％」を含む") if "％" in match.group(0) else ""
        messages.append(
            _(
                "%(wide)s「{%% … %%}」形式の指定「%(around_text_match)s」は使えません。"
                "使える差し込み項目は %(sample)s だけです。",
                wide=wide,
                around_text_match=_around(text, match),
                sample=_SAMPLE,
            )
        )
    for match in PLACEHOLDER_RE.finditer(text):
        name = match.group(1)
        if name in PLACEHOLDERS:
            continue
        if unicodedata.normalize("NFKC", name) in PLACEHOLDERS:
            messages.append(
                _(
                    "差し込み項目「%(match_group_0)s」の名前が全角文字です。半角の %(sample)s で入力し直してください。",
                    match_group_0=match.group(0),
                    sample=_SAMPLE,
                )
            )
            continue
        close = difflib.get_close_matches(name, sorted(PLACEHOLDERS), n=1, cutoff=0.6)
        hint = _("「{{ %(close_0)s }}」の誤りではありませんか。", close_0=close[0]) if close else ""
        messages.append(
            _(
                "不明な差し込み項目「%(match_group_0)s」があります。%(hint)s使えるのは %(sample)s だけです。",
                match_group_0=match.group(0),
                hint=hint,
                sample=_SAMPLE,
            )
        )
    rest = PLACEHOLDER_RE.sub("", _WIDE_BRACES.sub("", text))
    if "｛｛" in rest or "｝｝" in rest:
        messages.append(
            _(
                "全角の括弧「｛｛」「｝｝」があります（「%(text_strip)s」）。"
                "半角の %(sample)s で入力し直してください。",
                text_strip=text.strip(),
                sample=_SAMPLE,
            )
        )
    elif "{{" in rest or "}}" in rest:
        messages.append(
            _(
                "閉じていない、または書き方の違う差し込み項目があります（「%(text_strip)s」）。"
                "%(sample)s の形で入力してください。",
                text_strip=text.strip(),
                sample=_SAMPLE,
            )
        )
    return messages


def _around(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 10) : match.end() + 10].strip()


def _trial_render(docx_bytes: bytes) -> list[str]:
    """Build the sample letter with the template and read it back, as the real letters will be."""
    try:
        result = render_letter(sample_letter(), docx_bytes)
        document = open_template(result)
    except Exception as exc:  # noqa: BLE001 - any failure is reported to the uploader instead of a 500
        return [
            _(
                "この雛形では見本の要請書を作成できませんでした（%(type_exc___name)s）。別の雛形を選んでください。",
                type_exc___name=type(exc).__name__,
            )
        ]
    texts = [paragraph_text(p) for p in document.element.body.iter(qn("w:p"))]
    if sample_letter().title not in texts or any(PLACEHOLDER_RE.search(t) for t in texts):
        return [_("この雛形では見本の要請書を正しく作成できませんでした。別の雛形を選んでください。")]
    return []
