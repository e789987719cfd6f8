"""The defects an attack on loopback found (issue 8), one test (or a few) each; every one failed at d114f41.

1 characters XML cannot hold, 2 open redirect, 3 logout, 4 zip bombs, 5 login timing, 6 throttling as a lock-out
tool, 7 hostile ids and dates, 8 formula neutralising, 9 an answered opinion changed, 10 deadline states.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import struct
import tracemalloc
import zipfile
import zlib
from types import SimpleNamespace
from urllib.parse import urljoin, urlsplit

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy import text as sql
from test_answers_support import PASSWORD, answer_post, edit_url, new_client
from test_letters_views import add_letter, create_campaign

from consult.extensions import db

HOSTILE = "前\ufffe\uffff\ufdd0\U0001fffe\x00\x07後"  # non-characters, a NUL and a bell
HOSTILE_NAMED = "U+FFFE、U+FFFF、U+FDD0、U+1FFFE、U+0000、U+0007"
STORABLE = HOSTILE.replace("\x00", "")  # PostgreSQL stores no NUL at all; SQLite would
REFUSED = f"制御文字を取り除きました。内容を確認して、もう一度保存してください。（取り除いた文字：{HOSTILE_NAMED}）"
HUGE_ID = "9" * 20


@pytest.fixture
def w(app, make_org, make_user, make_round, hq, clock):
    """A round open to Tokyo with two items, the people who use it, and a campaign with one letter and item."""
    tokyo = make_org("東京都本部")
    round_ = make_round(title="社会保障の討議", targets=[tokyo], items=2)
    return SimpleNamespace(
        tokyo=tokyo,
        round=round_,
        items=[item.id for item in round_.items],
        member=make_user("member", tokyo),
        staff=make_user("staff", hq),
        admin=make_user("admin", hq),
    )


def count(app, table: str) -> int:
    with app.app_context():
        return db.session.scalar(sql(f'SELECT count(*) FROM "{table}"'))


def submit_answer(client, w, reason="窓口の人員が足りない", proposed="人員を確保すること", version=0, proposals=None):
    opinions = {w.items[0]: {"stance": "amend", "proposed_text": proposed, "reason": reason}}
    body = answer_post(version, opinions, proposals=proposals, item_ids=w.items, action="submit")
    return client.post(edit_url(w.round, w.tokyo), data=body)


def opinion_of(app, w):
    from consult.answers.models import Answer, Opinion

    with app.app_context():
        return db.session.scalars(
            select(Opinion).join(Answer).where(Answer.round_id == w.round.id, Opinion.item_id == w.items[0])
        ).one()


def answer_by_hq(client, w, opinion, disposition="partly", view="趣旨を踏まえて要請します"):
    from consult.review.operations import disposition_token

    prefix = f"op-{opinion.id}"
    return client.post(
        f"/rounds/{w.round.id}/aggregate/opinions/{opinion.id}",
        data={
            f"{prefix}-disposition": disposition,
            f"{prefix}-hq_view": view,
            f"{prefix}-seen": disposition_token(opinion.disposition, opinion.hq_view),
        },
    )


def new_campaign(client, w) -> tuple[int, int]:
    campaign_id = create_campaign(client, round_id=str(w.round.id))
    return campaign_id, add_letter(client, campaign_id, "要請書")


def extend(client, round_id: int, org, until: str, reason: str = "議論が続いている"):
    data = {"organization_id": str(org.id), "until": until, "reason": reason}
    return client.post(f"/rounds/{round_id}/extensions", data=data)


# ---------------------------------------------------------------- 1. characters XML cannot hold


def _text_forms(w, campaign_id, letter_id):
    """(what, url, body with HOSTILE in one typed field, table that must not grow or change) for every kind of
    text field: rounds, items, milestones, extensions, answers, dispositions, campaigns, letters, addressees,
    request items, users."""
    r, org = w.round.id, w.tokyo.id
    round_body = {"title": "題", "background": "", "opens_at": "2025-03-01T10:00", "deadline": "2025-03-20T17:00"}
    campaign = {
        "title": "省庁要請",
        "date_year": "2025",
        "date_month": "3",
        "date_style": "western",
        "sender_org": "全日本自治団体労働組合",
        "round_id": "0",
        "version": "1",
    }
    return [
        ("round title", "/rounds/new", {**round_body, "title": HOSTILE}, "round"),
        ("round background", f"/rounds/{r}/edit", {**round_body, "background": HOSTILE, "version": "1"}, None),
        ("item heading", f"/rounds/{r}/items", {"number": "3", "heading": HOSTILE, "body": ""}, "round_item"),
        ("item body", f"/rounds/{r}/items/{w.items[0]}/edit", {"number": "1", "heading": "見", "body": HOSTILE}, None),
        ("pasted items", f"/rounds/{r}/items/import", {"action": "preview_text", "text": "1. " + HOSTILE}, None),
        ("milestone", f"/rounds/{r}/milestones", {"date": "2025-03-24", "meeting": HOSTILE, "what": ""}, "milestone"),
        (
            "extension reason",
            f"/rounds/{r}/extensions",
            {"organization_id": str(org), "until": "2025-03-30T17:00", "reason": HOSTILE},
            "deadline_extension",
        ),
        ("campaign sender", "/campaigns/new", {**campaign, "sender_name": HOSTILE}, "campaign"),
        ("campaign title", f"/campaigns/{campaign_id}", {**campaign, "title": HOSTILE}, None),
        ("new letter", f"/campaigns/{campaign_id}/letters", {"title": HOSTILE}, "letter"),
        (
            "letter greeting",
            f"/campaigns/{campaign_id}/letters/{letter_id}",
            {"title": "要請書", "greeting": HOSTILE, "numbering": "dot", "version": "1"},
            None,
        ),
        (
            "request item",
            f"/campaigns/{campaign_id}/letters/{letter_id}/items",
            {"form": "top", "add-top-text": HOSTILE},
            "request_item",
        ),
        (
            "addressee",
            f"/campaigns/{campaign_id}/addressees/new",
            {
                "organisation": HOSTILE,
                "kind": "ministry",
                "honorific": "様",
                "letter_id": str(letter_id),
                "scope": "all",
            },
            "addressee",
        ),
        (
            "user name",
            "/admin/users",
            {"login": "newuser", "name": HOSTILE, "role": "member", "organization_id": str(org), "password": "x" * 10},
            "user_account",
        ),
    ]


def test_forbidden_characters_are_refused_next_to_every_text_field_with_the_text_kept(app, w, login_as):
    client = login_as(w.admin)
    campaign_id, letter_id = new_campaign(client, w)
    for what, url, body, table in _text_forms(w, campaign_id, letter_id):
        before = count(app, table) if table else None
        response = client.post(url, data=body)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (what, response.status_code)
        assert REFUSED in page, what
        assert "前後" in page, what  # the typed text is shown again, without what no document can hold
        if table:
            assert count(app, table) == before, what
    with app.app_context():
        from consult.rounds.models import Round, RoundItem

        assert db.session.get(Round, w.round.id).background == "背景の説明"
        assert db.session.get(RoundItem, w.items[0]).body == "項目1の本文"


def test_forbidden_characters_in_an_answer_and_headquarters_view_are_refused(app, w, login_as):
    member = login_as(w.member)
    for field, value in (("reason", HOSTILE), ("proposed_text", "\uffff")):
        opinions = {w.items[0]: {"stance": "amend", field: value}}
        response = member.post(edit_url(w.round, w.tokyo), data=answer_post(0, opinions, item_ids=w.items))
        assert response.status_code == 200 and "（取り除いた文字：U+" in response.get_data(as_text=True)
    response = member.post(edit_url(w.round, w.tokyo), data=answer_post(0, {}, general_comment=HOSTILE))
    assert REFUSED in response.get_data(as_text=True)
    assert count(app, "answer") == 0
    assert submit_answer(member, w).status_code == 302
    staff = login_as(w.staff)
    opinion = opinion_of(app, w)
    page = answer_by_hq(staff, w, opinion, view=HOSTILE).get_data(as_text=True)
    assert REFUSED in page
    assert opinion_of(app, w).hq_view == ""


def test_every_form_of_the_app_cleans_its_typed_text():
    """A form added later that skips the common base would let forbidden characters through to the session."""
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import consult
    from consult.core.forms import CleanTextForm

    for module in pkgutil.walk_packages(consult.__path__, "consult."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    forms, pending = [], [FlaskForm]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("consult."):
                forms.append(sub)
    assert len(forms) > 20
    assert [f.__qualname__ for f in forms if not issubclass(f, CleanTextForm)] == []


def test_no_path_can_store_a_forbidden_character(app, w):
    """The session refuses what the forms would (an import, the API, a script): nothing unholdable is stored."""
    from consult.core.errors import DomainError
    from consult.rounds.models import Round

    with app.app_context():
        db.session.get(Round, w.round.id).title = "題\ufffe"
        with pytest.raises(DomainError, match="U\\+FFFE"):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(Round, w.round.id).title == "社会保障の討議"
        # The answer's item opinions are written as rows, past the flush: the operation refuses them itself.
        from consult.answers import operations as answering
        from consult.auth.models import User

        typed = answering.AnswerInput(opinions={w.items[0]: answering.OpinionInput("amend", "", "案\uffff", "")})
        with pytest.raises(DomainError, match="U\\+FFFF"):
            answering.save_answer(
                db.session.get(Round, w.round.id),
                w.tokyo.id,
                db.session.get(User, w.member.id),
                typed,
                0,
                w.round.opens_at + (w.round.deadline - w.round.opens_at) / 2,
            )
        db.session.rollback()
        assert count(app, "opinion") == 0


def _store_hostile_rows(app, w, client):
    """Rows as an older version, an import or a script may have left them: written with plain SQL."""
    proposals = [{"heading": "新しい柱", "proposed_text": "提案"}]
    assert submit_answer(client(w.member), w, proposals=proposals).status_code == 302
    with app.app_context():
        updates = [
            ("round", "title", w.round.id),
            ("round_item", "heading", w.items[0]),
            ("organization", "name", w.tokyo.id),
        ]
        for table, column, row_id in updates:
            db.session.execute(
                sql(f'UPDATE "{table}" SET {column} = {column} || :h WHERE id = :id'), {"h": STORABLE, "id": row_id}
            )
        for column in ("referred_text", "proposed_text", "reason", "hq_view", "heading"):
            db.session.execute(sql(f"UPDATE opinion SET {column} = :h"), {"h": "=" + STORABLE})
        db.session.commit()


def test_a_stored_forbidden_character_never_breaks_an_export(app, w, login_as):
    _store_hostile_rows(app, w, lambda user: login_as(user))
    client = login_as(w.staff)
    r = w.round.id
    for kind in ("opinions", "answers"):
        for query in ("", f"?item={w.items[0]}", "?item=proposals"):
            for fmt in ("xlsx", "docx", "csv"):
                url = f"/rounds/{r}/export/{kind}.{fmt}{query}"
                response = client.get(url)
                body = response.get_data()  # streamed: a writer's failure would surface here
                assert response.status_code == 200, url
                if fmt == "xlsx":
                    cells = [c.value for row in load_workbook(io.BytesIO(body)).active.iter_rows() for c in row]
                    text = "\n".join(str(c) for c in cells if c is not None)
                elif fmt == "docx":
                    document = Document(io.BytesIO(body))
                    text = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
                    text += "\n".join(p.text for p in document.paragraphs)
                else:
                    text = body.decode("utf-8-sig")
                assert "\ufffe" not in text and "\x00" not in text, url
                assert "前後" in text, url
    board = client.get(f"/rounds/{r}/board.csv").get_data().decode("utf-8-sig")
    assert "東京都本部前後" in board and "\ufffe" not in board
    for url in (f"/rounds/{r}", f"/rounds/{r}/aggregate", f"/rounds/{r}/aggregate/items/{w.items[0]}"):
        assert client.get(url).status_code == 200, url


# ---------------------------------------------------------------- 2. open redirect

HOSTILE_TARGETS = [
    "/%09/evil.example/phish",
    "/\t/evil.example/phish",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "//evil.example",
    " //evil.example",
    "\x00//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "java\tscript:alert(1)",
    "javascript:alert(1)",
    "///evil.example",
    "https:/\\evil.example",
]


def _lands_here(location: str) -> bool:
    """Where a browser goes from http://localhost/login with this Location: the same host, or not."""
    seen = "".join(ch for ch in location.strip("".join(map(chr, range(0x21)))) if ch not in "\t\n\r")
    target = urlsplit(urljoin("http://localhost/login", seen.replace("\\", "/")))
    return target.scheme == "http" and target.netloc == "localhost"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_login_next_never_leaves_the_site(app, w, target):
    client = app.test_client()
    response = client.post(
        "/login", query_string={"next": target}, data={"login": w.member.login, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert _lands_here(response.headers["Location"]), response.headers["Location"]
    switched = client.post("/language", data={"lang": "ja", "next": target})
    assert switched.status_code == 302 and _lands_here(switched.headers["Location"]), switched.headers["Location"]


def test_login_next_to_a_page_of_the_site_is_followed(app, w):
    response = app.test_client().post(
        "/login?next=/answers/%3Fx%3D1", data={"login": w.member.login, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/answers/?x=1"


# ---------------------------------------------------------------- 3. logout


def test_logout_ends_a_copied_session_and_remember_me_cookie(app, w, login_as):
    client = login_as(w.member)
    assert client.get("/answers/").status_code == 200
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    assert client.post("/logout").status_code == 302
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        thief = app.test_client()
        thief.set_cookie(name, value)
        response = thief.get("/answers/")
        assert response.status_code == 302 and "/login" in response.headers["Location"], name
    # Logging in again works, and the audit log has the logout.
    assert login_as(w.member).get("/answers/").status_code == 200


# ---------------------------------------------------------------- 4. zip bombs


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def zip_bomb(inflated_mb: int, name: str = "word/document.xml", declared_mb: int | None = None) -> bytes:
    """A real Word document (python-docx's own parts) or Excel workbook (openpyxl's) whose `name` part is padded
    with inflated_mb MB of blanks inside its root element, built without ever holding the padding: one deflate
    block for 1 MB, repeated (a full flush makes every block the same). declared_mb makes the archive's
    directory lie about the size."""
    import docx

    if name.startswith("xl/"):  # a real workbook, as openpyxl writes it
        book = io.BytesIO()
        Workbook().save(book)
        source = zipfile.ZipFile(book)
    else:
        source = zipfile.ZipFile(os.path.join(os.path.dirname(docx.__file__), "templates", "default.docx"))
    with source:
        parts = {info.filename: source.read(info.filename) for info in source.infolist()}
    original = parts[name]
    root = original.index(b"<", original.index(b"?>") + 2) if original.startswith(b"<?") else original.index(b"<")
    cut = original.index(b">", root) + 1  # after the root element's start tag
    # 1 MB of blanks closed by a comment: XML parsers cap one text node at 10 MB, not a document.
    head, tail, megabyte = original[:cut], original[cut:], b" " * ((1 << 20) - 7) + b"<!---->"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH) == block  # the same block again
    stream = start + block * inflated_mb + compressor.compress(tail) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(inflated_mb):
        crc = zlib.crc32(megabyte, crc)
    crc = zlib.crc32(tail, crc)
    size = (len(head) + len(tail) + (inflated_mb << 20)) if declared_mb is None else declared_mb << 20
    members = [(n.encode(), _deflated(d), zlib.crc32(d), len(d)) for n, d in parts.items() if n != name]
    members.append((name.encode(), stream, crc, size))
    out, directory = io.BytesIO(), []
    for raw, data, c, usize in members:
        directory.append((raw, c, len(data), usize, out.tell()))
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, c, len(data), usize, len(raw), 0))
        out.write(raw + data)
    at = out.tell()
    for raw, c, csize, usize, offset in directory:
        header = (b"PK\x01\x02", 20, 20, 0, 8, 0, 0, c, csize, usize, len(raw), 0, 0, 0, 0, 0, offset)
        out.write(struct.pack("<4s6H3L5H2L", *header) + raw)
    count, length = len(directory), out.tell() - at
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, length, at, 0))
    return out.getvalue()


def test_a_1mb_template_that_unpacks_to_1gb_is_refused_in_bounded_memory(app, w, login_as):
    bomb = zip_bomb(1024)
    assert len(bomb) < 1.1 * 2**20  # about 1 MB on the wire
    client = login_as(w.staff)
    tracemalloc.start()
    try:
        response = client.post(
            "/campaigns/templates", data={"file": (io.BytesIO(bomb), "雛形.docx")}, content_type="multipart/form-data"
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"1 GB bomb as a template: peak {peak / 2**20:.1f} MB traced")
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.1f} MB while handling a 1 GB bomb"
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ファイルを展開すると大きくなりすぎます" in page
    assert count(app, "letter_template") == 0


@pytest.mark.parametrize("declared_mb", [None, 1])
def test_every_zip_upload_is_checked_before_it_is_parsed(app, w, login_as, declared_mb):
    """Templates, XLSX item imports and DOCX attachments; an honest bomb and one whose directory lies."""
    bomb = zip_bomb(300, declared_mb=declared_mb)
    xlsx_bomb = zip_bomb(300, name="xl/worksheets/sheet1.xml", declared_mb=declared_mb)
    client = login_as(w.staff)
    lying = {  # a directory that lies: zipfile never inflates past the declared size, so the CRC check fails
        "templates": "Word 文書（.docx）ではありません。ファイルが壊れている可能性があります。",
        "attachments": "ファイルが壊れているか、ZIP 形式（Word・Excel のファイル）ではありません。",
        "import": "XLSXファイルを読み込めませんでした。",
    }
    cases = [
        ("/campaigns/templates", {"file": (io.BytesIO(bomb), "t.docx")}, "letter_template", "templates"),
        (f"/rounds/{w.round.id}/attachments", {"file": (io.BytesIO(bomb), "案.docx")}, "attachment", "attachments"),
        (
            f"/rounds/{w.round.id}/items/import",
            {"action": "preview_file", "file": (io.BytesIO(xlsx_bomb), "items.xlsx")},
            "round_item",
            "import",
        ),
    ]
    for url, body, table, kind in cases:
        before = count(app, table)
        tracemalloc.start()
        try:
            response = client.post(url, data=body, content_type="multipart/form-data")
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        wanted = "ファイルを展開すると大きくなりすぎます" if declared_mb is None else lying[kind]
        assert wanted in page, url
        assert peak < 40 * 2**20, (url, peak)
        assert count(app, table) == before, url


def test_a_real_xlsx_and_docx_still_pass_the_check(app, w, login_as):
    workbook = Workbook()
    workbook.active.append(["番号", "見出し", "本文"])
    workbook.active.append(["1", "人員の確保", "本文" * 2000])
    out = io.BytesIO()
    workbook.save(out)
    client = login_as(w.staff)
    page = client.post(
        f"/rounds/{w.round.id}/items/import",
        data={"action": "preview_file", "file": (io.BytesIO(out.getvalue()), "items.xlsx")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "人員の確保" in page and "ファイルを展開" not in page
    document = io.BytesIO()
    Document().save(document)
    response = client.post(
        f"/rounds/{w.round.id}/attachments",
        data={"file": (io.BytesIO(document.getvalue()), "案.docx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and count(app, "attachment") == 1


# ---------------------------------------------------------------- 5. login timing


def test_an_unknown_login_costs_the_same_hash_work_as_a_real_one(app, w, monkeypatch):
    """Count the key-derivation calls of werkzeug's real hasher: an unknown login must do the same work."""
    from consult.auth.models import User

    with app.app_context():  # a real account with the library's default (scrypt) hash, as create-user makes it
        user = db.session.get(User, w.member.id)
        user.set_password("a-real-password")
        db.session.commit()
    calls = []
    real_scrypt, real_pbkdf2 = hashlib.scrypt, hashlib.pbkdf2_hmac

    def scrypt(*args, **kwargs):
        calls.append(("scrypt", kwargs.get("n"), kwargs.get("r"), kwargs.get("p")))
        return real_scrypt(*args, **kwargs)

    def pbkdf2_hmac(*args, **kwargs):
        calls.append(("pbkdf2", args[0], args[3] if len(args) > 3 else kwargs.get("iterations")))
        return real_pbkdf2(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", pbkdf2_hmac)
    client = app.test_client()
    work = {}
    for login in (w.member.login, "nobody-has-this-login"):
        calls.clear()
        response = client.post("/login", data={"login": login, "password": "wrong-password"})
        assert "ログインIDまたはパスワードが違います。" in response.get_data(as_text=True)
        work[login] = list(calls)
    assert work[w.member.login] and work["nobody-has-this-login"] == work[w.member.login], work


# ---------------------------------------------------------------- 6. throttling that locks nobody out


SMALL_LIMITS = {
    "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": "3 per 15 minutes",
    "LOGIN_LIMIT_PER_ACCOUNT": "6 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "100 per 15 minutes",
    "LOGIN_LIMIT_PER_DEVICE": "3 per 15 minutes",
}


def attempt(client, login, password, address):
    return client.post("/login", data={"login": login, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_an_attacker_cannot_lock_out_a_device_that_logged_in_before(limited, w):
    app = limited(**SMALL_LIMITS)
    admin_pc = app.test_client()
    assert attempt(admin_pc, w.admin.login, PASSWORD, "192.0.2.10").status_code == 302  # the admin's own PC
    admin_pc.post("/logout")
    attacker = app.test_client()
    for n in range(20):  # from many addresses, more than every limit of an unknown device
        attempt(attacker, w.admin.login, "guess", f"198.51.100.{n % 7}")
    assert attempt(attacker, w.admin.login, PASSWORD, "198.51.100.99").status_code == 429  # a new device waits
    assert attempt(admin_pc, w.admin.login, PASSWORD, "192.0.2.10").status_code == 302  # the known one never


def test_failures_count_per_account_and_address_together(limited, w):
    app = limited(**SMALL_LIMITS)
    client = app.test_client()
    for _ in range(3):
        assert attempt(client, w.member.login, "guess", "203.0.113.1").status_code == 200
    assert attempt(client, w.member.login, PASSWORD, "203.0.113.1").status_code == 429
    # The same account from another address, and another account from the same address, are not blocked.
    assert attempt(app.test_client(), w.member.login, PASSWORD, "203.0.113.2").status_code == 302
    assert attempt(app.test_client(), w.staff.login, PASSWORD, "203.0.113.1").status_code == 302


def test_a_known_device_is_held_to_its_own_failures(limited, w):
    app = limited(**SMALL_LIMITS)
    client = app.test_client()
    assert attempt(client, w.member.login, PASSWORD, "192.0.2.20").status_code == 302
    client.post("/logout")
    for _ in range(3):
        assert attempt(client, w.member.login, "typo", "192.0.2.20").status_code == 200
    assert attempt(client, w.member.login, PASSWORD, "192.0.2.20").status_code == 429


def test_reaching_a_limit_is_recorded_in_the_audit_log(limited, w, app):
    limited_app = limited(**SMALL_LIMITS)
    client = limited_app.test_client()
    for _ in range(4):
        attempt(client, w.member.login, "guess", "203.0.113.9")
    from consult.audit.models import AuditEvent

    with app.app_context():
        lines = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_throttled")).all()
        assert len(lines) == 1  # once, when the limit is reached; the refused attempts after it add nothing
        assert lines[0].details["login"] == w.member.login and lines[0].details["limit"] == "account_address"
        assert lines[0].address == "203.0.113.9" and lines[0].object_id == w.member.id
        assert "ログインの試行を制限" in lines[0].summary


# ---------------------------------------------------------------- 7. hostile ids and dates


def test_hostile_ids_answer_404_or_400_never_500(app, w, login_as):
    admin = login_as(w.admin)
    for url in ("/admin/users/active", "/admin/users/password"):
        for value in (HUGE_ID, "²", "-1", "0", "1e3", ""):
            assert admin.post(url, data={"user_id": value, "active": "0"}).status_code == 404, (url, value)
    campaign_id, letter_id = new_campaign(admin, w)
    items = f"/campaigns/{campaign_id}/letters/{letter_id}/items"
    for value in (HUGE_ID, "²", "-1"):
        assert admin.post(items, data={"form": value, f"add-{value}-text": "要請"}).status_code in (400, 404)
    for path in (f"/rounds/{HUGE_ID}", f"/rounds/{2**31}", f"/campaigns/{HUGE_ID}/letters/1", "/rounds/١"):
        assert admin.get(path).status_code == 404, path
    for query in (f"?item={HUGE_ID}", "?item=²", f"?page={HUGE_ID}&item=1"):
        assert admin.get(f"/rounds/{w.round.id}/export/opinions.csv{query}").status_code in (200, 404), query
    assert admin.get(f"/rounds/{w.round.id}/published?page=²").status_code == 200
    assert admin.get(f"/admin/audit?page=²&round={HUGE_ID}").status_code == 200


def test_a_huge_unlink_id_on_an_opinion_row_is_no_id_and_unlinks_nothing(app, w, login_as):
    """op-<id>-unlink=9…9 was an OverflowError (SQLite) or NumericValueOutOfRange (PostgreSQL): now no id at all."""
    assert submit_answer(login_as(w.member), w).status_code == 302
    staff = login_as(w.staff)
    opinion = opinion_of(app, w)
    from consult.review.operations import disposition_token

    prefix = f"op-{opinion.id}"
    for value in (HUGE_ID, str(2**31), "²", "-1"):
        response = staff.post(
            f"/rounds/{w.round.id}/aggregate/opinions/{opinion.id}",
            data={
                f"{prefix}-unlink": value,
                f"{prefix}-seen": disposition_token(None, ""),
                f"{prefix}-disposition": "",
            },
        )
        assert response.status_code == 302, value
        assert "結び付けを" not in staff.get(response.headers["Location"]).get_data(as_text=True), value


def test_a_password_of_blanks_is_refused_next_to_the_row(app, w, login_as):
    admin = login_as(w.admin)
    response = admin.post("/admin/users/password", data={"user_id": str(w.member.id), "password": " "})
    assert response.status_code == 200
    assert "パスワードは8文字以上にしてください。" in response.get_data(as_text=True)
    assert app.test_client().post("/login", data={"login": w.member.login, "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "1899-12-31T23:59", "2101-01-01T00:00", "9999-12-31T23:59"])
def test_a_date_outside_the_years_the_app_holds_is_refused_next_to_the_field(app, w, login_as, value):
    staff = login_as(w.staff)
    body = {"title": "題", "background": "", "opens_at": value, "deadline": "2025-03-20T17:00", "version": "1"}
    for url in (f"/rounds/{w.round.id}/edit", "/rounds/new"):
        response = staff.post(url, data=body)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "1900年から2100年までの日付を入力してください" in page, url
        assert value in page, url  # the typed value stays in the field
    deadline = {**body, "opens_at": "2025-03-01T10:00", "deadline": value}
    assert "1900年から2100年まで" in staff.post("/rounds/new", data=deadline).get_data(as_text=True)
    milestone = staff.post(f"/rounds/{w.round.id}/milestones", data={"date": value[:10], "meeting": "中執"})
    assert "1900年から2100年まで" in milestone.get_data(as_text=True)
    extension = extend(staff, w.round.id, w.tokyo, value)
    assert "1900年から2100年まで" in extension.get_data(as_text=True)
    assert count(app, "round") == 1 and count(app, "milestone") == 0 and count(app, "deadline_extension") == 0


# ---------------------------------------------------------------- 8. formula neutralising


@pytest.mark.parametrize(
    "typed, inert",
    [
        ("=1+1", "'=1+1"),
        ("＝1+1", "'＝1+1"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        (" =1+1", "' =1+1"),
        ("\t=1+1", "'\t=1+1"),
        ("\u3000=1+1", "'\u3000=1+1"),
        ('理由\n=HYPERLINK("http://x")', '理由\n\'=HYPERLINK("http://x")'),
        ("理由\r\n @cmd", "理由\n' @cmd"),
        ("普通の文 = 式ではない", "普通の文 = 式ではない"),
    ],
)
def test_every_formula_form_is_made_inert_in_csv_and_xlsx(app, w, login_as, typed, inert):
    assert submit_answer(login_as(w.member), w, reason=typed).status_code == 302
    staff = login_as(w.staff)
    for kind in ("opinions", "answers"):
        csv_text = staff.get(f"/rounds/{w.round.id}/export/{kind}.csv").get_data().decode("utf-8-sig")
        assert inert in [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row], kind
        sheet = load_workbook(io.BytesIO(staff.get(f"/rounds/{w.round.id}/export/{kind}.xlsx").get_data())).active
        values = [cell.value for row in sheet.iter_rows() for cell in row]
        assert inert in values and all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), kind


# ---------------------------------------------------------------- 9. an answered opinion changed by the branch


def answered_then_changed(app, w, clock):
    """Tokyo submits, headquarters answers and publishes; after the deadline, with an extension, Tokyo withdraws
    and changes the opinion headquarters answered (the reproduction of the attack). The two browsers."""
    member, staff = new_client(app, w.member), new_client(app, w.staff)
    assert submit_answer(member, w, reason="答えてもらった理由").status_code == 302
    assert answer_by_hq(staff, w, opinion_of(app, w)).status_code == 302
    assert staff.post(f"/rounds/{w.round.id}/aggregate/publish").status_code == 302
    assert extend(staff, w.round.id, w.tokyo, "2025-03-30T17:00").status_code == 302
    clock.advance(days=8)
    answer_page = member.get(f"/answers/{w.round.id}/org/{w.tokyo.id}").get_data(as_text=True)
    version = int(re.search(r'name="version" value="(\d+)"', answer_page).group(1))
    assert member.post(f"/answers/{w.round.id}/org/{w.tokyo.id}/withdraw", data={"version": version}).status_code == 302
    edit_page = member.get(edit_url(w.round, w.tokyo)).get_data(as_text=True)
    version = int(re.search(r'name="version"[^>]*value="(\d+)"', edit_page).group(1))
    assert submit_answer(member, w, reason="あとで書き換えた理由", version=version).status_code == 302
    return member, staff


def test_changing_an_answered_opinion_is_announced_once_for_later_features(app, w, clock):
    """answers.signals.answered_opinion_changed: where a notification (e-mail) of this event plugs in."""
    from consult.answers import signals

    heard = []

    def receiver(opinion, **kw):
        heard.append((opinion.id, kw["user"].id, opinion.answered_version().reason))

    signals.answered_opinion_changed.connect(receiver)
    try:
        answered_then_changed(app, w, clock)
    finally:
        signals.answered_opinion_changed.disconnect(receiver)
    assert heard == [(opinion_of(app, w).id, w.member.id, "答えてもらった理由")]


def test_a_branch_changing_an_answered_opinion_keeps_what_was_answered(app, w, clock):
    member, staff = answered_then_changed(app, w, clock)
    # Headquarters' pages flag it; the published table and the answer export show what was answered.
    hq_page = staff.get(f"/rounds/{w.round.id}/aggregate/items/{w.items[0]}").get_data(as_text=True)
    assert "回答後に変更あり" in hq_page and "答えてもらった理由" in hq_page and "あとで書き換えた理由" in hq_page
    published = member.get(f"/rounds/{w.round.id}/published").get_data(as_text=True)
    assert "答えてもらった理由" in published and "あとで書き換えた理由" not in published
    exported = staff.get(f"/rounds/{w.round.id}/export/answers.csv").get_data().decode("utf-8-sig")
    assert "答えてもらった理由" in exported and "あとで書き換えた理由" not in exported
    with app.app_context():
        from consult.answers.models import Opinion

        stored = db.session.get(Opinion, opinion_of(app, w).id)
        assert stored.reason == "あとで書き換えた理由"
        assert stored.changed_since_answered() and stored.answered_version().reason == "答えてもらった理由"
    # Headquarters answers again: the flag goes, the table shows the new wording.
    assert answer_by_hq(staff, w, opinion_of(app, w), view="新しい理由も踏まえます").status_code == 302
    assert "回答後に変更あり" not in staff.get(f"/rounds/{w.round.id}/aggregate/items/{w.items[0]}").get_data(
        as_text=True
    )
    published = member.get(f"/rounds/{w.round.id}/published").get_data(as_text=True)
    assert "あとで書き換えた理由" in published and "答えてもらった理由" not in published


# ---------------------------------------------------------------- 10. deadline states


def test_moving_an_open_round_deadline_into_the_past_needs_a_confirmation(app, w, login_as, clock):
    staff = login_as(w.staff)

    def version() -> str:
        page = staff.get(f"/rounds/{w.round.id}/edit").get_data(as_text=True)
        return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)

    body = {"title": "社会保障の討議", "background": "", "opens_at": "2025-03-01T10:00", "version": version()}
    past = {**body, "deadline": "2025-03-09T17:00"}  # the clock is 2025-03-10 10:00 JST
    response = staff.post(f"/rounds/{w.round.id}/edit", data=past)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "締切を過去の日時（2025年3月9日(日) 17:00）にすると" in page and 'name="confirm_past_deadline"' in page
    with app.app_context():
        from consult.rounds.models import Round

        assert db.session.get(Round, w.round.id).deadline == w.round.deadline
    assert staff.post(f"/rounds/{w.round.id}/edit", data={**past, "confirm_past_deadline": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(Round, w.round.id).deadline < clock()
    # A future deadline needs no confirmation.
    future = {**body, "deadline": "2025-03-28T17:00", "version": version()}
    assert staff.post(f"/rounds/{w.round.id}/edit", data=future).status_code == 302


def test_every_page_names_the_same_state_for_the_same_viewer(app, w, login_as, clock, make_org, make_round):
    osaka = make_org("大阪府本部")
    round_ = make_round(title="税制の討議", targets=[w.tokyo, osaka], items=1)
    staff = login_as(w.staff)
    assert extend(staff, round_.id, w.tokyo, "2025-03-20T12:00", "災害対応").status_code == 302
    clock.advance(days=7, hours=3)  # the round's deadline (2025-03-17 10:00 JST) has passed; Tokyo's has not
    state = re.compile(r'<span class="badge (?:draft|open|closed)">([^<]+)</span>')
    for url in (f"/rounds/{round_.id}", f"/rounds/{round_.id}/aggregate", f"/rounds/{round_.id}/board", "/rounds/"):
        page = login_as(w.staff).get(url).get_data(as_text=True)
        assert state.findall(page)[:1] == ["締切経過"], url
        if url.endswith(("}", "/board")) or url == f"/rounds/{round_.id}":
            assert "（締切を過ぎています）" in page and not re.search(r"あと\d+(日|時間|分)", page), url
    member = login_as(w.member)
    for url in ("/answers/", f"/answers/{round_.id}", f"/answers/{round_.id}/org/{w.tokyo.id}"):
        page = member.get(url).get_data(as_text=True)
        if url == "/answers/":  # the row of this round (the other round has no extension: 締切経過 is right there)
            page = next(row for row in page.split("<tr>") if "税制の討議" in row)
        assert "締切経過" not in page, url
        assert "あと2日23時間" in page, url
        if url != f"/answers/{round_.id}/org/{w.tokyo.id}":
            assert state.findall(page)[:1] == ["受付中（締切延長）"], url
    # A branch without the extension reads the same words as headquarters.
    from consult.rounds.models import Round

    with app.app_context():
        round_ = db.session.get(Round, round_.id)
        osaka_state = round_.state_for(osaka.id, clock())
        hq_state = round_.state_for(None, clock())
        assert (
            (osaka_state.key, str(osaka_state.label)) == (hq_state.key, str(hq_state.label)) == ("closed", "締切経過")
        )
        assert osaka_state.remaining == hq_state.remaining == "締切を過ぎています"
