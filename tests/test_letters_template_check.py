"""Checking an uploaded replacement template: refused with a Japanese reason, or accepted."""

import io
import zipfile

from docx import Document

from consult.letters.render import default_template_path
from consult.letters.template_check import check_template

TEMPLATE = default_template_path()


def _template(*body: str | tuple[str, ...], footer: str | None = None) -> bytes:
    """The default template with its body replaced; a tuple is one paragraph typed in several runs."""
    document = Document(str(TEMPLATE))
    for p in list(document.paragraphs):
        p._p.getparent().remove(p._p)
    for text in body:
        paragraph = document.add_paragraph()
        for piece in text if isinstance(text, tuple) else (text,):
            paragraph.add_run(piece)
    if footer is not None:
        document.sections[0].footer.add_paragraph(footer)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_default_template_is_accepted():
    assert check_template(TEMPLATE.read_bytes()) == []


def test_placeholder_split_across_runs_and_percent_in_ordinary_text_are_accepted():
    assert check_template(_template("組合費は50％です。", ("{{ con", "ten", "t }}"), "以上の通り")) == []
    assert check_template(_template("レターヘッドのみ")) == []  # no placeholder: the letter is appended


def test_fullwidth_braces_are_refused_naming_them():
    messages = check_template(_template("｛｛ content ｝｝"))
    assert len(messages) == 1
    assert "全角の括弧" in messages[0] and "｛｛ content ｝｝" in messages[0] and "{{ content }}" in messages[0]
    assert any("全角" in m for m in check_template(_template("{｛ content }}")))
    assert any("全角" in m for m in check_template(_template("｛｛ content")))


def test_fullwidth_percent_and_jinja_statements_are_refused():
    messages = check_template(_template("{％ if name ％}"))
    assert messages and "全角の「％」" in messages[0] and "{{ content }}" in messages[0]
    assert check_template(_template("{% for x in y %}"))


def test_misspelt_or_unknown_placeholder_is_refused_with_a_suggestion():
    (message,) = check_template(_template("{{ contnet }}"))
    assert "不明な差し込み項目「{{ contnet }}」" in message and "「{{ content }}」の誤り" in message
    (message,) = check_template(_template("{{ addressee }}"))
    assert "不明な差し込み項目" in message and "誤り" not in message
    (message,) = check_template(_template("{{ ｃｏｎｔｅｎｔ }}"))
    assert "全角文字" in message


def test_placeholder_misplaced_duplicated_or_unclosed_is_refused():
    assert any("それだけで一つの段落" in m for m in check_template(_template("ここに {{ content }} を入れる")))
    assert any("2 か所" in m for m in check_template(_template("{{ content }}", "{{ content }}")))
    assert any("フッター" in m for m in check_template(_template("{{ content }}", footer="{{ content }}")))
    assert any("閉じていない" in m for m in check_template(_template("{{ content }")))


def test_files_that_are_not_docx_are_refused():
    assert "Word 文書（.docx）ではありません" in check_template(b"%PDF-1.7 not a word file")[0]
    assert "空" in check_template(b"")[0]
    assert ".doc" in check_template(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)[0]
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert "Excel" in check_template(xlsx.getvalue())[0]
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("[Content_Types].xml", "not xml")
        z.writestr("word/document.xml", "<x/>")
    assert check_template(broken.getvalue())  # refused, not an exception


def test_dotx_template_format_is_refused_with_how_to_save():
    data = bytearray(TEMPLATE.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as src:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                content = src.read(item.filename)
                if item.filename == "[Content_Types].xml":
                    content = content.replace(b"document.main+xml", b"template.main+xml")
                dst.writestr(item, content)
    (message,) = check_template(out.getvalue())
    assert ".dotx" in message
