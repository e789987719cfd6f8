"""Who answered (board and CSV), deadline extensions, and the draft's attachments."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from consult.answers.queries import compute_board
from consult.core import clock as app_clock
from consult.extensions import db
from consult.rounds.models import Attachment, Round

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="本部 太郎")


@pytest.fixture
def staff_client(staff, login_as):
    return login_as(staff)


def _save(app, round_id, org_id, user_id, submit=False, no_opinion=False):
    """Save, submit or 「意見なし」 an answer through the real operations; a late one is kept aside."""
    from consult.answers.operations import AnswerInput, LateError, OpinionInput, save_answer, submit_no_opinion
    from consult.auth.models import User

    with app.app_context():
        round_ = db.session.get(Round, round_id)
        user = db.session.get(User, user_id)
        item_id = round_.items[0].id
        try:
            if no_opinion:
                submit_no_opinion(round_, org_id, user, None, app_clock.app_now())
            else:
                data = AnswerInput(opinions={item_id: OpinionInput(stance="agree", reason="理由")})
                save_answer(round_, org_id, user, data, None, app_clock.app_now(), submit=submit)
        except LateError:
            pass
        db.session.commit()


@pytest.fixture
def answered_round(app, make_org, make_user, make_round, clock, hq):
    """Five prefectures: submitted, draft, 意見なし, not started, and one whose save came after the deadline."""
    orgs = [
        make_org(name, parent=hq, code=code)
        for name, code in [
            ("北海道本部", "p01"),
            ("青森県本部", "p02"),
            ("岩手県本部", "p03"),
            ("宮城県本部", "p04"),
            ("秋田県本部", "p05"),
        ]
    ]
    local = make_org("札幌市職労", kind="local", parent=orgs[0], code="l01")
    users = [make_user("member", org=org) for org in orgs]
    round_ = make_round(targets=[*orgs, local], deadline=clock() + timedelta(days=1))
    _save(app, round_.id, orgs[0].id, users[0].id, submit=True)
    _save(app, round_.id, orgs[1].id, users[1].id)
    _save(app, round_.id, orgs[2].id, users[2].id, no_opinion=True)
    clock.advance(days=2)
    _save(app, round_.id, orgs[4].id, users[4].id, submit=True)
    clock.advance(days=-2)
    return round_, orgs, local


def test_board_counts_and_states(app, staff_client, answered_round):
    round_, orgs, local = answered_round
    with app.app_context():
        board = compute_board(db.session.get(Round, round_.id))
    assert board.counts == {"not_started": 2, "draft": 2, "submitted": 1, "no_opinion": 1}
    assert (board.submitted, board.total, board.late) == (2, 6, 1)
    states = {row.organization.name: row.state_label for row in board.rows}
    assert states == {
        "北海道本部": "提出済",
        "青森県本部": "下書き",
        "岩手県本部": "意見なし",
        "宮城県本部": "未着手",
        "秋田県本部": "下書き",
        "札幌市職労": "未着手",
    }
    late = next(row for row in board.rows if row.organization.name == "秋田県本部")
    assert late.late_at is not None

    page = staff_client.get(f"/rounds/{round_.id}/board").get_data(as_text=True)
    assert "2/6 提出済" in page and "締切後の送信あり" in page
    assert "2025年3月10日(月) 10:00" in page  # submission time in JST
    assert f'href="/answers/{round_.id}/org/{orgs[0].id}"' in page
    listing = staff_client.get("/rounds/").get_data(as_text=True)
    assert "2/6 提出済" in listing


def test_board_filters_by_state_name_and_kind(staff_client, answered_round):
    round_, orgs, local = answered_round
    page = staff_client.get(f"/rounds/{round_.id}/board?state=not_started").get_data(as_text=True)
    assert "宮城県本部" in page and "札幌市職労" in page and "北海道本部</td>" not in page
    assert "2 組織を表示しています" in page
    page = staff_client.get(f"/rounds/{round_.id}/board?q=青森").get_data(as_text=True)
    assert "1 組織を表示しています" in page and "青森県本部" in page
    page = staff_client.get(f"/rounds/{round_.id}/board?kind=local").get_data(as_text=True)
    assert "1 組織を表示しています" in page and "札幌市職労" in page
    page = staff_client.get(f"/rounds/{round_.id}/board?state=late").get_data(as_text=True)
    assert "1 組織を表示しています" in page and "秋田県本部" in page


def test_board_uses_the_same_number_of_queries_for_many_organisations(app, make_org, make_round):
    few = make_round(targets=[make_org() for _ in range(2)])
    many = make_round(targets=[make_org() for _ in range(12)])

    def count_queries(round_id):
        statements = []

        def listener(conn, cursor, statement, *args):
            statements.append(statement)

        with app.app_context():
            round_ = db.session.get(Round, round_id)
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                board = compute_board(round_)
                [row.state_label for row in board.rows]  # noqa: B018  (touch every row as the page does)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    assert count_queries(few.id) == count_queries(many.id) == 3


def test_board_csv_has_bom_header_and_rows(staff_client, answered_round):
    round_, orgs, local = answered_round
    response = staff_client.get(f"/rounds/{round_.id}/board.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:6] == ["組織コード", "組織名", "状態", "提出日時", "締切（延長後）", "延長理由"]
    by_code = {row[0]: row for row in rows[1:]}
    assert len(by_code) == 6
    assert by_code["p01"][1:5] == ["北海道本部", "提出済", "2025-03-10 10:00", "2025-03-11 10:00"]
    assert by_code["p03"][2] == "意見なし" and by_code["p04"][2:4] == ["未着手", ""]
    assert by_code["p05"][6] == "2025-03-12 10:00"  # the late save


def test_extension_is_recorded_and_moves_the_organisations_deadline(app, staff_client, answered_round, clock):
    round_, orgs, local = answered_round
    response = staff_client.post(
        f"/rounds/{round_.id}/extensions",
        data={"organization_id": str(orgs[3].id), "until": "2025-03-14T17:00", "reason": "県本部大会の日程のため"},
    )
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Round, round_.id)
        assert stored.deadline_for(orgs[3].id) == datetime(2025, 3, 14, 8, 0, tzinfo=UTC)
        assert stored.deadline_for(orgs[0].id) == stored.deadline
        assert stored.is_accepting(orgs[3].id, clock() + timedelta(days=3))
    page = staff_client.get(f"/rounds/{round_.id}/board").get_data(as_text=True)
    assert "県本部大会の日程のため" in page and "本部 太郎" in page and "2025年3月14日(金) 17:00" in page
    rows = list(csv.reader(io.StringIO(staff_client.get(f"/rounds/{round_.id}/board.csv").get_data(as_text=True))))
    extended = next(row for row in rows if row[0] == "p04")
    assert extended[4:6] == ["2025-03-14 17:00", "県本部大会の日程のため"]


def test_extension_refusals_keep_the_typed_reason(app, staff_client, answered_round, make_org):
    round_, orgs, local = answered_round
    outsider = make_org("対象外の県本部")
    page = staff_client.post(
        f"/rounds/{round_.id}/extensions",
        data={"organization_id": str(orgs[3].id), "until": "2025-03-10T12:00", "reason": "入力した理由"},
    ).get_data(as_text=True)
    assert "延長後の締切は、討議の締切より後の日時にしてください。" in page and "入力した理由" in page
    page = staff_client.post(
        f"/rounds/{round_.id}/extensions",
        data={"organization_id": str(outsider.id), "until": "2025-03-20T12:00", "reason": "x"},
    ).get_data(as_text=True)
    assert "対象組織の中から選んでください。" in page
    page = staff_client.post(
        f"/rounds/{round_.id}/extensions",
        data={"organization_id": str(orgs[3].id), "until": "2025-03-20T12:00", "reason": " "},
    ).get_data(as_text=True)
    assert "延長の理由を入力してください。" in page
    with app.app_context():
        assert db.session.get(Round, round_.id).extensions == []


def test_attachment_upload_checks_content_and_size(app, staff_client, make_round):
    round_ = make_round(status="draft")
    url = f"/rounds/{round_.id}/attachments"
    response = staff_client.post(
        url, data={"file": (io.BytesIO(PDF), "../本部素案.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    page = staff_client.post(
        url, data={"file": (io.BytesIO(b"just text, not a PDF"), "偽物.pdf")}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "ファイルの中身が PDF・Word（DOCX）ではありません。" in page
    app.config["MAX_ATTACHMENT_BYTES"] = 1000
    page = staff_client.post(
        url, data={"file": (io.BytesIO(PDF + b"0" * 2000), "大きい.pdf")}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "1000バイト以下のファイルにしてください。" in page
    page = staff_client.post(url, data={}, content_type="multipart/form-data").get_data(as_text=True)
    assert "ファイルを選んでください。" in page
    with app.app_context():
        files = db.session.scalars(select(Attachment)).all()
        assert [(a.filename, a.content_type, a.data) for a in files] == [("本部素案.pdf", "application/pdf", PDF)]


def test_docx_upload_is_recognised_by_content(app, staff_client, make_round):
    from docx import Document

    document = Document()
    document.add_paragraph("本部素案")
    out = io.BytesIO()
    document.save(out)
    round_ = make_round(status="draft")
    response = staff_client.post(
        f"/rounds/{round_.id}/attachments",
        data={"file": (io.BytesIO(out.getvalue()), "素案")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        attachment = db.session.scalars(select(Attachment)).one()
        assert attachment.filename == "素案.docx" and attachment.content_type.endswith("document")


def test_attachment_download_for_target_branch_only(app, make_user, login_as, make_round, make_org, staff):
    target, other = make_org("target"), make_org("other")
    round_ = make_round(status="open", targets=[target])
    draft = make_round(status="draft", targets=[target])
    with app.app_context():
        ids = []
        for r in (round_, draft):
            attachment = Attachment(
                round_id=r.id,
                filename="自治体DX 素案.pdf",
                content_type="application/pdf",
                size=len(PDF),
                data=PDF,
                uploaded_at=app_clock.app_now(),
            )
            db.session.add(attachment)
            db.session.flush()
            ids.append(attachment.id)
        db.session.commit()
    client = login_as(make_user("member", org=target))
    response = client.get(f"/rounds/attachments/{ids[0]}")
    assert response.status_code == 200 and response.get_data() == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E8%87%AA%E6%B2%BB%E4%BD%93DX%20%E7%B4%A0%E6%A1%88.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/rounds/attachments/{ids[1]}").status_code == 403  # draft: not yet put to branches
    client = login_as(make_user("member", org=other))
    assert client.get(f"/rounds/attachments/{ids[0]}").status_code == 403
    client = login_as(staff)
    assert client.get(f"/rounds/attachments/{ids[1]}").status_code == 200
