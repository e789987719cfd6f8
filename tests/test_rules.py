"""Deadline, permission and state rules as model predicates and operations, without HTTP."""

from datetime import timedelta

import pytest

from consult.answers import operations as answers
from consult.answers.models import Answer, AnswerEvent
from consult.core.errors import ConflictError, DomainError, TransitionError
from consult.extensions import db
from consult.rounds import operations as rounds
from consult.rounds.models import Round


@pytest.fixture
def setup(make_org, make_user, make_round, clock, hq):
    """A round open to two prefectures, with a member of each and an HQ staff user."""
    tokyo, osaka = make_org("自治労東京都本部"), make_org("自治労大阪府本部")
    outsider = make_org("自治労沖縄県本部")
    round_ = make_round(targets=[tokyo, osaka], deadline=clock() + timedelta(hours=1))
    return {
        "round": round_,
        "tokyo": tokyo,
        "osaka": osaka,
        "outsider": outsider,
        "member": make_user("member", tokyo),
        "osaka_member": make_user("member", osaka),
        "staff": make_user("staff", hq),
        "stranger": make_user("member", outsider),
    }


def _load(app, s):
    from consult.auth.models import User

    round_ = db.session.get(Round, s["round"].id)
    return round_, {k: db.session.get(User, v.id) for k, v in s.items() if k.endswith(("member", "staff", "stranger"))}


def _data(round_, text="修正をお願いします"):
    first = round_.items[0]
    return answers.AnswerInput(opinions={first.id: answers.OpinionInput("amend", "現行", text, "理由")})


@pytest.mark.parametrize("offset, accepted", [(-1, True), (0, True), (1, False)])
def test_deadline_edge_without_extension(app, setup, offset, accepted):
    with app.app_context():
        round_ = db.session.get(Round, setup["round"].id)
        at = round_.deadline + timedelta(seconds=offset)
        assert round_.is_accepting(setup["tokyo"].id, at) is accepted


@pytest.mark.parametrize("offset, accepted", [(-1, True), (0, True), (1, False)])
def test_deadline_edge_with_extension(app, setup, clock, offset, accepted):
    with app.app_context():
        round_ = db.session.get(Round, setup["round"].id)
        until = round_.deadline + timedelta(days=1)
        rounds.grant_extension(round_, setup["tokyo"].id, until, "台風のため会議が延期", None, clock())
        db.session.commit()
        assert round_.is_accepting(setup["tokyo"].id, until + timedelta(seconds=offset)) is accepted
        assert round_.is_accepting(setup["osaka"].id, round_.deadline + timedelta(seconds=1)) is False
        assert round_.deadline_for(setup["tokyo"].id) == until


def test_extension_outlives_closing(app, setup, clock):
    with app.app_context():
        round_ = db.session.get(Round, setup["round"].id)
        rounds.grant_extension(round_, setup["tokyo"].id, round_.deadline + timedelta(days=2), "理由", None, clock())
        clock.set(round_.deadline + timedelta(days=1))
        rounds.close_round(round_, clock(), user=None)
        assert round_.is_accepting(setup["tokyo"].id, clock())
        assert not round_.is_accepting(setup["osaka"].id, clock())


def test_not_accepting_before_opening_or_in_draft(app, setup):
    with app.app_context():
        round_ = db.session.get(Round, setup["round"].id)
        assert not round_.is_accepting(setup["tokyo"].id, round_.opens_at - timedelta(seconds=1))
        round_.status = "draft"
        assert not round_.is_accepting(setup["tokyo"].id, round_.opens_at + timedelta(seconds=1))


def test_transitions_are_one_step_at_a_time(app, make_round, make_org, clock):
    org = make_org()
    with app.app_context():
        round_ = db.session.get(Round, make_round(targets=[org], status="draft").id)
        with pytest.raises(TransitionError):
            rounds.close_round(round_, clock(), user=None)
        rounds.open_round(round_, clock(), user=None)
        with pytest.raises(TransitionError):
            rounds.open_round(round_, clock(), user=None)
        rounds.close_round(round_, clock(), user=None)
        assert round_.status == "closed"


def test_open_needs_items_targets_and_future_deadline(app, make_round, make_org, clock):
    org = make_org()
    ids = [
        make_round(items=0, targets=[org], status="draft").id,
        make_round(status="draft").id,
        make_round(
            targets=[org], status="draft", deadline=clock() - timedelta(seconds=1), opens_at=clock() - timedelta(days=1)
        ).id,
    ]
    with app.app_context():
        empty, untargeted, late = (db.session.get(Round, i) for i in ids)
        with pytest.raises(TransitionError, match="項目"):
            rounds.open_round(empty, clock(), user=None)
        with pytest.raises(TransitionError, match="対象組織"):
            rounds.open_round(untargeted, clock(), user=None)
        with pytest.raises(TransitionError, match="締切"):
            rounds.open_round(late, clock(), user=None)


def test_deadline_must_follow_opening_in_the_database_too(app, clock):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        with pytest.raises(DomainError):
            rounds.create_round("t", "", clock(), clock(), None, clock())
        db.session.add(
            Round(
                title="t",
                background="",
                opens_at=clock(),
                deadline=clock() - timedelta(hours=1),
                status="draft",
                created_at=clock(),
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_permissions_of_answering(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        tokyo, osaka = setup["tokyo"].id, setup["osaka"].id
        assert round_.can_submit(users["member"], tokyo, clock())
        assert not round_.can_submit(users["member"], osaka, clock())
        assert round_.can_submit(users["staff"], osaka, clock())
        assert not round_.can_submit(users["stranger"], setup["outsider"].id, clock())
        assert not round_.can_view(users["stranger"]) and round_.can_view(users["member"])
        with pytest.raises(DomainError):
            answers.save_answer(round_, osaka, users["member"], _data(round_), 0, clock())


def test_save_submit_withdraw_records_history(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        tokyo = setup["tokyo"].id
        answer = answers.save_answer(round_, tokyo, users["member"], _data(round_), 0, clock())
        db.session.commit()
        answer = answers.save_answer(
            round_, tokyo, users["member"], _data(round_, "別の案"), answer.version, clock(), submit=True
        )
        db.session.commit()
        assert answer.status == "submitted" and answer.submitted_at == clock()
        answer = answers.withdraw_answer(round_, answer, users["member"], answer.version, clock())
        db.session.commit()
        actions = [e.action for e in db.session.scalars(db.select(AnswerEvent).order_by(AnswerEvent.id))]
        assert actions == ["save", "submit", "withdraw"]
        submit_event = db.session.scalars(db.select(AnswerEvent).where(AnswerEvent.action == "submit")).one()
        assert {
            "where": f"{round_.items[0].number} {round_.items[0].heading}",
            "field": "修正案",
            "before": "修正をお願いします",
            "after": "別の案",
        } in submit_event.changes


def test_stale_version_is_refused_and_keeps_the_stored_text(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        tokyo = setup["tokyo"].id
        first = answers.save_answer(round_, tokyo, users["member"], _data(round_, "一人目"), 0, clock())
        db.session.commit()
        seen = first.version
        answers.save_answer(round_, tokyo, users["member"], _data(round_, "二人目"), seen, clock())
        db.session.commit()
        with pytest.raises(ConflictError):
            answers.save_answer(round_, tokyo, users["member"], _data(round_, "三人目"), seen, clock())
        db.session.rollback()
        stored = answers.find_answer(round_.id, tokyo)
        assert stored.opinions[0].proposed_text == "二人目"


def test_concurrent_update_loses_nothing(app, setup, clock):
    """Two sessions read the same version; the second writer is refused by the version column."""
    from sqlalchemy.orm import Session

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite serialises writing requests with BEGIN IMMEDIATE; see the next test")
        round_, users = _load(app, setup)
        answer = answers.save_answer(round_, setup["tokyo"].id, users["member"], _data(round_), 0, clock())
        db.session.commit()
        engine = db.engine
        with Session(engine) as one, Session(engine) as two:
            a1, a2 = one.get(Answer, answer.id), two.get(Answer, answer.id)
            a1.general_comment, a2.general_comment = "一", "二"
            a1.updated_at = a2.updated_at = clock()
            one.commit()
            from sqlalchemy.orm.exc import StaleDataError

            with pytest.raises(StaleDataError):
                two.commit()
        db.session.expire_all()
        assert db.session.get(Answer, answer.id).general_comment == "一"


def test_late_answer_is_kept_aside_and_sent_text_unchanged(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        tokyo = setup["tokyo"].id
        answer = answers.save_answer(round_, tokyo, users["member"], _data(round_, "期限内"), 0, clock(), submit=True)
        db.session.commit()
        clock.set(round_.deadline + timedelta(seconds=1))
        with pytest.raises(answers.LateError) as caught:
            answers.save_answer(round_, tokyo, users["member"], _data(round_, "期限後"), answer.version, clock())
        db.session.commit()
        assert "締切" in str(caught.value)
        stored = answers.find_answer(round_.id, tokyo)
        assert stored.status == "submitted" and stored.opinions[0].proposed_text == "期限内"
        assert stored.late_at == clock()
        late = answers.AnswerInput.from_json(stored.late_payload)
        assert late.opinions[round_.items[0].id].proposed_text == "期限後"


def test_hq_entry_is_recorded_as_on_behalf(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        answers.save_answer(round_, setup["osaka"].id, users["staff"], _data(round_), 0, clock())
        db.session.commit()
        event = db.session.scalars(db.select(AnswerEvent)).one()
        assert event.on_behalf and event.user_id == users["staff"].id


def test_edited_item_keeps_the_wording_an_opinion_answered(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        item = round_.items[0]
        answers.save_answer(round_, setup["tokyo"].id, users["member"], _data(round_), 0, clock())
        rounds.update_item(item, rounds.ItemDraft(item.number, item.heading, "改訂した本文"), clock(), user=None)
        db.session.commit()
        opinion = answers.find_answer(round_.id, setup["tokyo"].id).opinions[0]
        old = opinion.answered_text()
        assert old is not None and old.revision == 1 and old.body == "項目1の本文"
        assert rounds.remove_item(item, clock(), user=None) == "withdrawn"
        db.session.commit()
        assert opinion.item.removed_at is not None and opinion.id is not None
        assert item.id not in [i.id for i in db.session.get(Round, round_.id).items]


def test_one_answer_per_organisation_in_the_database(app, setup, clock):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        round_id, org_id = setup["round"].id, setup["tokyo"].id
        for _ in range(2):
            db.session.add(Answer(round_id=round_id, organization_id=org_id, created_at=clock(), updated_at=clock()))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_empty_submit_asks_for_no_opinion(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        with pytest.raises(DomainError, match="意見なし"):
            answers.save_answer(
                round_, setup["tokyo"].id, users["member"], answers.AnswerInput(), 0, clock(), submit=True
            )
        db.session.rollback()
        answer = answers.submit_no_opinion(round_, setup["tokyo"].id, users["member"], 0, clock())
        db.session.commit()
        assert answer.status == "submitted" and answer.no_opinion and answer.status_label == "意見なし"


def test_sqlite_writing_request_takes_the_write_lock_at_begin(app, setup):
    """On SQLite a POST begins IMMEDIATE, so a second writer waits instead of losing or failing its update."""
    import sqlite3

    from sqlalchemy import text

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL relies on the version column (previous test)")
        path = db.engine.url.database
    with app.test_request_context("/", method="POST"):
        db.session.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        db.session.rollback()
    with app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()
        db.session.rollback()


def test_resaving_keeps_the_revision_an_untouched_opinion_answered(app, setup, clock):
    with app.app_context():
        round_, users = _load(app, setup)
        tokyo, item = setup["tokyo"].id, round_.items[0]
        answer = answers.save_answer(round_, tokyo, users["member"], _data(round_), 0, clock())
        rounds.update_item(item, rounds.ItemDraft(item.number, item.heading, "改訂した本文"), clock(), user=None)
        db.session.commit()
        data = _data(round_)
        data.general_comment = "全体への意見を追加"
        answer = answers.save_answer(round_, tokyo, users["member"], data, answer.version, clock())
        db.session.commit()
        assert answer.opinions[0].item_revision == 1
        answers.save_answer(
            round_, tokyo, users["member"], _data(round_, "新しい本文を読んで書き直した"), answer.version, clock()
        )
        db.session.commit()
        assert answers.find_answer(round_.id, tokyo).opinions[0].item_revision == 2


def test_displayed_status_follows_the_clock(app, setup):
    with app.app_context():
        round_ = db.session.get(Round, setup["round"].id)

        def shown(at):
            state = round_.state_for(None, at)
            return state.key, str(state.label)

        assert shown(round_.opens_at - timedelta(seconds=1)) == ("draft", "受付前")
        assert shown(round_.deadline) == ("open", "受付中")
        assert shown(round_.deadline + timedelta(seconds=1)) == ("closed", "締切経過")
        round_.status = "closed"
        assert shown(round_.deadline) == ("closed", "締切済")
