"""The database the fuzzer starts every route from: a little of everything, made through the operations.

An open round put to Tokyo and Osaka with two items, an attachment and a milestone; Tokyo's answer is a draft,
Osaka's is submitted, one of its opinions weighed by headquarters and linked to a request item; a campaign on
the round with a letter (a section with an item), an addressee, and the answer table published. Users: a
member of Tokyo, headquarters staff and an admin, and a second member (the admin pages' target).
"""

from __future__ import annotations

from datetime import timedelta

from werkzeug.security import generate_password_hash

from consult.extensions import db

PASSWORD = "password123"
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def seed(clock) -> dict:
    """Fill an empty database (inside an app context); the ids and logins the fuzzer builds its requests with."""
    from consult.answers import operations as answering
    from consult.auth import operations as accounts
    from consult.auth.models import User
    from consult.letters import operations as letters
    from consult.orgs.models import Organization
    from consult.review import operations as reviewing
    from consult.rounds import operations as rounds

    now = clock()
    hq = Organization(code="hq", name="全日本自治団体労働組合", kind="hq", position=0)
    db.session.add(hq)
    db.session.flush()
    tokyo = Organization(code="13", name="東京都本部", kind="prefecture", parent_id=hq.id, position=1)
    osaka = Organization(code="27", name="大阪府本部", kind="prefecture", parent_id=hq.id, position=2)
    db.session.add_all([tokyo, osaka])
    db.session.flush()
    users = {}
    for key, role, org in (
        ("member", "member", tokyo),
        ("staff", "staff", hq),
        ("admin", "admin", hq),
        ("other", "member", osaka),
    ):
        user = User(login=f"fuzz-{key}", name=f"{key}さん", role=role, organization_id=org.id, password_hash=_HASH)
        db.session.add(user)
        users[key] = user
    db.session.flush()

    round_ = rounds.create_round("社会保障の討議", "背景", now - timedelta(days=3), now + timedelta(days=7), None, now)
    items = rounds.add_items(
        round_, [rounds.ItemDraft("1", "人員の確保", "本文1"), rounds.ItemDraft("2", "財源", "本文2")], now, user=None
    )
    rounds.set_targets(round_, {tokyo.id, osaka.id}, user=None, now=now)
    round_.status = "open"
    attachment = rounds.add_attachment(round_, "案.pdf", b"%PDF-1.4 fuzz", None, now, 10**6)
    milestone = rounds.add_milestone(round_, now.date(), "中央執行委員会", "確認", user=None, now=now)
    draft = answering.AnswerInput(
        opinions={items[0].id: answering.OpinionInput("amend", "第1段落", "人員を確保すること", "足りない")},
        general_comment="東京の意見",
    )
    answering.save_answer(round_, tokyo.id, users["member"], draft, 0, now)
    sent = answering.AnswerInput(
        opinions={items[0].id: answering.OpinionInput("oppose", "", "撤回", "負担が大きい")},
        proposals=[answering.ProposalInput("新しい柱", "提案の内容", "理由")],
    )
    osaka_answer = answering.save_answer(round_, osaka.id, users["other"], sent, 0, now, submit=True)
    opinion = osaka_answer.item_opinions()[items[0].id]
    reviewing.set_disposition(opinion, "rejected", "現行案を維持します", users["staff"], now)
    from consult.review import answering as hq_answering

    answer_template = hq_answering.create_template(round_, "維持", "rejected", "現行案を維持します", user=None, now=now)

    campaign = letters.create_campaign(
        letters.CampaignInput(
            title="省庁要請",
            date_year=2025,
            date_month=3,
            sender_org="全日本自治団体労働組合",
            sender_title="中央執行委員長",
            sender_name="石上千博",
            round_id=round_.id,
        ),
        now,
        user=None,
    )
    letter = letters.add_letter(
        campaign, letters.LetterInput(title="要請書", greeting="敬意を表します。"), user=None, now=now
    )
    section = letters.add_request_item(letter, "人員について", user=None, now=now)
    request_item = letters.add_request_item(letter, "人員を確保すること。", parent=section, user=None, now=now)
    letters.link_opinions(request_item, [opinion.id], user=None, now=now)
    addressee = letters.add_addressee(
        campaign, letter, letters.AddresseeInput(organisation="総務省", title="総務大臣"), user=None, now=now
    )
    reviewing.publish_answers(round_, now, user=None)
    from consult.followup import operations as following

    visit = following.add_visit(campaign, following.VisitInput(addressee.id, now, "総務省"), user=None, now=now)
    visit_file = following.add_visit_file(visit, "回答.pdf", b"%PDF-1.4 answer", user=None, now=now)
    indicator = following.save_indicator(campaign, "現年分収納率", "%", True, [(2024, 98.4, 98.1)], user=None, now=now)
    following.publish(campaign, True, user=None, now=now)
    token, _secret = accounts.create_token(users["member"], "Excel マクロ", now=now)  # "any" routes run as the member
    from consult.review import groups as grouping

    group = grouping.confirm_group(items[0], [opinion.id], "現行維持", user=None, now=now)  # issue 12: a 論点
    db.session.commit()
    ids = {
        "round_id": round_.id,
        "item_id": items[0].id,
        "attachment_id": attachment.id,
        "milestone_id": milestone.id,
        "org_id": tokyo.id,
        "opinion_id": opinion.id,
        "campaign_id": campaign.id,
        "letter_id": letter.id,
        "addressee_id": addressee.id,
        "token_id": token.id,
        "filename": "style.css",
        "visit_id": visit.id,
        "indicator_id": indicator.id,
        "file_id": visit_file.id,
        "request_item_id": request_item.id,  # issue 10: the trace page
        "template_id": answer_template.id,  # issue 12: 定型文
        "group_id": group.id,
    }
    return {
        "ids": ids,
        "letter_ids": dict(ids, item_id=request_item.id),
        "users": {key: user.login for key, user in users.items()},
    }
