"""The console commands: schema, users and the CSV imports, run through Flask's CLI against the real database."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import func, inspect, select

from consult import create_app
from consult.auth.models import User
from consult.extensions import db
from consult.orgs.models import Organization

ORG_HEADER = "code,name,kind,parent_code\n"
USER_HEADER = "login,name,role,org_code,email,password\n"


def write(tmp_path, name: str, text: str, bom: bool = False):
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def org_by_code(app, code: str) -> Organization | None:
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.code == code))
        if org is not None:
            org.parent_code = org.parent.code if org.parent else None
            db.session.expunge_all()
        return org


# --- init-db and the console script ------------------------------------------------------------------------


def test_init_db_creates_the_tables_on_an_empty_database(tmp_path):
    url = "sqlite:///" + str(tmp_path / "fresh.sqlite")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "データベースを最新の状態にしました" in result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"organization", "user_account", "round", "round_item", "answer", "opinion", "alembic_version"} <= tables
    again = app.test_cli_runner().invoke(args=["init-db"])  # running it again is harmless
    assert again.exit_code == 0, again.output


def test_consult_console_script_offers_every_command(tmp_path, monkeypatch):
    from consult.cli import main

    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "x.sqlite"))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("init-db", "demo", "create-user", "import-orgs", "import-users", "run"):
        assert command in result.output
    assert (tmp_path / "instance" / "secret_key").exists()  # SECRET_KEY generated into the instance folder


def test_commands_on_an_uninitialised_database_say_to_run_init_db(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "empty.sqlite"),
            "SECRET_KEY": "test",
            "TESTING": True,
        }
    )
    result = app.test_cli_runner().invoke(args=["create-user", "x", "--name", "x", "--role", "member", "--org", "hq"])
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    assert "consult init-db" in result.output


# --- create-user ------------------------------------------------------------------------------------------


def test_create_user_generates_a_password_that_logs_in(app, runner, client, make_org, hq):
    tokyo = make_org("自治労東京都本部", code="pref13", parent=hq)
    result = runner.invoke(args=["create-user", "yamada", "--name", "山田 花子", "--role", "member", "--org", "pref13"])
    assert result.exit_code == 0, result.output
    password = re.search(r"初期パスワード: (\S+)", result.output).group(1)
    assert len(password) >= 8
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "yamada"))
        assert (user.name, user.role, user.organization_id) == ("山田 花子", "member", tokyo.id)
    assert client.post("/login", data={"login": "yamada", "password": password}).status_code == 302


def test_create_user_with_a_given_password_prints_no_password(app, runner, client, hq):
    result = runner.invoke(
        args=[
            "create-user",
            "boss",
            "--name",
            "本部 太郎",
            "--role",
            "admin",
            "--org",
            "hq",
            "--password",
            "secret-pass-1",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "初期パスワード" not in result.output
    assert client.post("/login", data={"login": "boss", "password": "secret-pass-1"}).status_code == 302


def test_create_user_refuses_unknown_org_taken_login_and_staff_outside_hq(app, runner, make_org, make_user, hq):
    make_org("自治労北海道本部", code="pref01", parent=hq)
    make_user("member", login="taken")
    before = count(app, User)
    unknown = runner.invoke(args=["create-user", "a1", "--name", "x", "--role", "member", "--org", "nowhere"])
    assert unknown.exit_code == 1
    assert "組織コード nowhere が見つかりません" in unknown.output
    taken = runner.invoke(args=["create-user", "taken", "--name", "x", "--role", "member", "--org", "hq"])
    assert taken.exit_code == 1 and "ログインID taken は既に使われています" in taken.output
    staff = runner.invoke(args=["create-user", "a2", "--name", "x", "--role", "staff", "--org", "pref01"])
    assert staff.exit_code == 1 and "本部に所属させてください" in staff.output
    short = runner.invoke(
        args=["create-user", "a3", "--name", "x", "--role", "member", "--org", "hq", "--password", "short"]
    )
    assert short.exit_code == 1 and "8文字以上" in short.output
    assert count(app, User) == before


# --- import-orgs ------------------------------------------------------------------------------------------


def test_import_orgs_creates_updates_and_accepts_parents_later_in_the_file(app, runner, make_org, hq, tmp_path):
    make_org("旧名称", code="pref13", parent=hq)
    path = write(
        tmp_path,
        "orgs.csv",
        ORG_HEADER
        + "local-hachioji,八王子市職員労働組合,local,pref13\n"
        + "local-new,新市職員労働組合,local,pref99\n"  # parent defined two lines below
        + "pref13,自治労東京都本部,prefecture,hq\n"  # existing code: name updated
        + "pref99,自治労新県本部,prefecture,hq\n"
        + "council-x,協議会,council,hq\n",
        bom=True,
    )
    result = runner.invoke(args=["import-orgs", path])
    assert result.exit_code == 0, result.output
    assert "新規 4件、更新 1件" in result.output
    assert org_by_code(app, "pref13").name == "自治労東京都本部"
    new = org_by_code(app, "local-new")
    assert (new.kind, new.parent_code) == ("local", "pref99")
    assert org_by_code(app, "local-hachioji").parent_code == "pref13"
    assert org_by_code(app, "council-x").kind == "council"
    again = runner.invoke(args=["import-orgs", path])  # the same file again changes nothing
    assert again.exit_code == 0 and "新規 0件、更新 0件、変更なし 5件" in again.output


def test_import_orgs_moves_an_existing_org_to_a_new_parent(app, runner, make_org, hq, tmp_path):
    old_parent = make_org("自治労東京都本部", code="pref13", parent=hq)
    make_org("八王子市職員労働組合", kind="local", code="local-h", parent=old_parent)
    path = write(
        tmp_path,
        "move.csv",
        ORG_HEADER + "local-h,八王子市職員労働組合,local,pref14\n" + "pref14,自治労神奈川県本部,prefecture,hq\n",
    )
    result = runner.invoke(args=["import-orgs", path])
    assert result.exit_code == 0, result.output
    assert org_by_code(app, "local-h").parent_code == "pref14"


def test_import_orgs_with_bad_rows_names_every_line_and_imports_nothing(app, runner, make_org, hq, tmp_path):
    make_org("自治労東京都本部", code="pref13", parent=hq)
    before = count(app, Organization)
    path = write(
        tmp_path,
        "bad.csv",
        ORG_HEADER
        + "ok1,正しい行,local,pref13\n"
        + "bad1,親がない,local,xx\n"
        + ",名前だけ,local,pref13\n"
        + "bad3,種別違い,branch,pref13\n"
        + "ok1,重複,local,pref13\n"
        + "pref13,改名しようとした,prefecture,hq\n"
        + "bad5,親なし単組,local,\n",
    )
    result = runner.invoke(args=["import-orgs", path])
    assert result.exit_code == 1
    assert "3行目: 親組織コード xx が見つかりません" in result.output
    assert "4行目: 組織コードが空です" in result.output
    assert "5行目: 種別「branch」は使えません" in result.output
    assert "6行目: 組織コード ok1 は2行目と重複しています" in result.output
    assert "8行目: 親組織コードが空です" in result.output
    assert "2行目" not in result.output.replace("2行目と重複", "")
    assert "7行目" not in result.output
    assert "何も登録していません" in result.output
    assert count(app, Organization) == before
    assert org_by_code(app, "pref13").name == "自治労東京都本部"


def test_import_orgs_refuses_a_cycle_of_parents(app, runner, make_org, hq, tmp_path):
    make_org("自治労東京都本部", code="pref13", parent=hq)
    before = count(app, Organization)
    in_file = write(tmp_path, "cycle.csv", ORG_HEADER + "a,A組合,local,b\nb,B組合,local,c\nc,C組合,local,a\n")
    result = runner.invoke(args=["import-orgs", in_file])
    assert result.exit_code == 1
    assert "2行目: 親組織をたどると元に戻ります（a → b → c → a）" in result.output
    through_db = write(tmp_path, "cycle2.csv", ORG_HEADER + "x,X組合,local,pref13\npref13,東京,prefecture,x\n")
    result = runner.invoke(args=["import-orgs", through_db])
    assert result.exit_code == 1 and "親組織をたどると元に戻ります" in result.output
    self_parent = write(tmp_path, "self.csv", ORG_HEADER + "s,S組合,local,s\n")
    result = runner.invoke(args=["import-orgs", self_parent])
    assert result.exit_code == 1 and "2行目: 組織 s を自分自身の親にはできません" in result.output
    assert count(app, Organization) == before


def test_import_orgs_refuses_a_second_headquarters_and_a_file_without_the_columns(app, runner, hq, tmp_path):
    second = write(tmp_path, "hq.csv", ORG_HEADER + "hq2,もう一つの本部,hq,\n")
    result = runner.invoke(args=["import-orgs", second])
    assert result.exit_code == 1 and "2行目: 本部（親のない組織）は一つだけです。既に hq があります" in result.output
    columns = write(tmp_path, "cols.csv", "code,name\nx,X\n")
    result = runner.invoke(args=["import-orgs", columns])
    assert result.exit_code == 1 and "1行目: 見出しに kind, parent_code の列がありません" in result.output
    unreadable = tmp_path / "neither.csv"  # bytes that are neither UTF-8 nor CP932
    unreadable.write_bytes(ORG_HEADER.encode() + b"x,\x81\x20\xe9,local,hq\n")
    result = runner.invoke(args=["import-orgs", str(unreadable)])
    assert result.exit_code == 1 and "UTF-8" in result.output
    assert count(app, Organization) == 1


def test_import_orgs_reads_the_csv_excel_saves_in_japan(app, runner, hq, tmp_path):
    """Excel's 「CSV」 in Japan is CP932 (Shift_JIS): it imports like UTF-8 (issue 7 item 9)."""
    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes((ORG_HEADER + "x,東京都本部,prefecture,hq\n").encode("cp932"))
    result = runner.invoke(args=["import-orgs", str(sjis)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Organization.name).where(Organization.code == "x")) == "東京都本部"


# --- import-users -----------------------------------------------------------------------------------------


def test_import_users_creates_all_and_prints_generated_passwords(app, runner, client, make_org, hq, tmp_path):
    make_org("自治労大阪府本部", code="pref27", parent=hq)
    path = write(
        tmp_path,
        "users.csv",
        USER_HEADER
        + "osaka,大阪 一郎,member,pref27,osaka@example.jp,\n"
        + "hqstaff,本部 二郎,staff,hq,,given-password\n",
        bom=True,
    )
    result = runner.invoke(args=["import-users", path])
    assert result.exit_code == 0, result.output
    assert "利用者を2件登録しました" in result.output
    generated = re.search(r"osaka / (\S+)", result.output).group(1)
    assert "hqstaff /" not in result.output
    with app.app_context():
        osaka = db.session.scalar(select(User).where(User.login == "osaka"))
        assert (osaka.email, osaka.role, osaka.organization.code) == ("osaka@example.jp", "member", "pref27")
    assert client.post("/login", data={"login": "osaka", "password": generated}).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"login": "hqstaff", "password": "given-password"}).status_code == 302


def test_import_users_with_bad_rows_names_the_lines_and_imports_nothing(app, runner, make_org, make_user, hq, tmp_path):
    make_org("自治労北海道本部", code="pref01", parent=hq)
    make_user("member", login="existing")
    before = count(app, User)
    path = write(
        tmp_path,
        "bad.csv",
        USER_HEADER
        + "good1,正しい人,member,pref01,,\n"
        + "nobody,所属不明,member,xx,,\n"
        + "existing,既存,member,pref01,,\n"
        + "good1,重複,member,pref01,,\n"
        + "bad role,役割違い,boss,pref01,mail,short\n"
        + "hokkaido-staff,本部外の職員,staff,pref01,,\n",
    )
    result = runner.invoke(args=["import-users", path])
    assert result.exit_code == 1
    assert "3行目: 組織コード xx が見つかりません" in result.output
    assert "4行目: ログインID existing は既に使われています" in result.output
    assert "5行目: ログインID good1 は既に使われています" in result.output
    assert "6行目: ログインIDは64文字以内の半角英数字" in result.output
    assert "6行目: 役割「boss」は使えません" in result.output
    assert "6行目: メールアドレス mail の形式が正しくありません" in result.output
    assert "6行目: パスワードは8文字以上にしてください" in result.output
    assert "7行目: 本部管理者・本部職員（admin, staff）は本部に所属させてください" in result.output
    assert "2行目" not in result.output
    assert count(app, User) == before
