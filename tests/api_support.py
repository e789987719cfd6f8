"""What the API tests share: a client that sends a bearer token, and which routes are the API's."""

from __future__ import annotations


def is_api_resource(endpoint: str) -> bool:
    """The JSON API's resources (blueprints api_<feature>); they have their own matrix (test_api_permissions.py)."""
    return endpoint.startswith("api_")


class ApiClient:
    """The test client speaking to /api/v1 with one bearer token (None: no Authorization header)."""

    def __init__(self, client, token: str | None):
        self.client, self.token = client, token

    def open(self, method: str, path: str, json=None, headers=None, **kwargs):
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        url = path if path.startswith("/api/") else "/api/v1" + path
        return self.client.open(url, method=method, json=json, headers=sent, **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.open("POST", path, json=json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.open("PUT", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.open("PATCH", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)


def build_world(app, make_org, make_user, hq, clock) -> dict:
    """A federation small enough to read and rich enough to reach every API route with real ids.

    本部 (admin, staff) → 東京都本部 (a prefecture officer) → 八王子市職員労働組合 (a union member); 大阪府本部 (a
    member of another prefecture, not a target). An open round put to Tokyo and Hachioji with items, a milestone,
    an attachment, an extension, Tokyo's submitted answer (one opinion weighed by HQ) and Hachioji's draft, the
    answer table published; a round still being prepared; a campaign on the open round with a letter, a request
    item linked to Tokyo's opinion, and an addressee. Tokens: one per user, plus a revoked one and one of a
    disabled user.
    """
    from datetime import timedelta

    from consult.answers import operations as answering
    from consult.auth import operations as accounts
    from consult.auth.models import User
    from consult.extensions import db
    from consult.letters import operations as letters
    from consult.review import operations as reviewing
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    tokyo = make_org("東京都本部", kind="prefecture", parent=hq, code="pref13")
    hachioji = make_org("八王子市職員労働組合", kind="local", parent=tokyo, code="local-hachioji")
    osaka = make_org("大阪府本部", kind="prefecture", parent=hq, code="pref27")
    people = {
        "admin": make_user("admin", hq, login="api-admin"),
        "staff": make_user("staff", hq, login="api-staff"),
        "prefecture": make_user("member", tokyo, login="api-tokyo"),
        "union": make_user("member", hachioji, login="api-hachioji"),
        "other_prefecture": make_user("member", osaka, login="api-osaka"),
        "disabled": make_user("member", tokyo, login="api-disabled"),
    }
    now = clock()
    with app.app_context():
        users = {role: db.session.get(User, person.id) for role, person in people.items()}
        staff = users["staff"]
        round_ = rounds.create_round(
            "三つの構想への意見集約", "背景", now - timedelta(days=7), now + timedelta(days=7), staff, now
        )
        rounds.add_items(
            round_, [rounds.ItemDraft(str(n), f"第{n}章", f"第{n}章の本文") for n in (1, 2, 3)], now, user=staff
        )
        rounds.set_targets(round_, {tokyo.id, hachioji.id}, user=staff, now=now)
        rounds.open_round(round_, now, user=staff)
        milestone = rounds.add_milestone(round_, now.date(), "中央執行委員会", "確認", user=staff, now=now)
        attachment = rounds.add_attachment(round_, "素案.pdf", b"%PDF-1.4 draft", staff, now, 10**6)
        rounds.grant_extension(round_, hachioji.id, now + timedelta(days=10), "組合大会のため", staff, now)
        items = round_.items
        tokyo_answer = answering.AnswerInput(
            opinions={items[0].id: answering.OpinionInput("amend", "現行の文言", "修正案の文言", "理由")},
            general_comment="東京の全体意見",
        )
        answer = answering.save_answer(round_, tokyo.id, users["prefecture"], tokyo_answer, 0, now, submit=True)
        hachioji_answer = answering.AnswerInput(
            opinions={items[1].id: answering.OpinionInput("agree", "", "", "賛成です")}
        )
        answering.save_answer(round_, hachioji.id, users["union"], hachioji_answer, 0, now)
        opinion = answer.opinions[0]
        reviewing.set_disposition(opinion, "adopted", "本部の考え方", staff, now)
        reviewing.publish_answers(round_, now, user=staff)
        from consult.review import answering as hq_answering

        answer_template = hq_answering.create_template(
            round_, "検討します", "reference", "今後検討します。", user=staff, now=now
        )
        draft_round = rounds.create_round(
            "準備中の討議", "", now + timedelta(days=1), now + timedelta(days=9), staff, now
        )
        rounds.add_items(draft_round, [rounds.ItemDraft("1", "項目", "本文")], now, user=staff)
        rounds.set_targets(draft_round, {tokyo.id}, user=staff, now=now)
        campaign = letters.create_campaign(
            letters.CampaignInput(
                title="省庁要請",
                date_year=2025,
                date_month=3,
                date_day=None,
                sender_org="全日本自治団体労働組合",
                sender_title="中央執行委員長",
                sender_name="石上千博",
                round_id=round_.id,
            ),
            now,
            user=staff,
        )
        letter = letters.add_letter(
            campaign,
            letters.LetterInput(title="自治体DXの推進に関する要請書", greeting="敬意を表します。"),
            user=staff,
            now=now,
        )
        request_item = letters.add_request_item(letter, "財源を確保すること。", user=staff, now=now)
        letters.link_opinions(request_item, [opinion.id], user=staff, now=now)
        addressee = letters.add_addressee(
            campaign, letter, letters.AddresseeInput(organisation="総務省", title="総務大臣"), user=staff, now=now
        )
        from consult.followup import operations as following

        visit = following.add_visit(
            campaign,
            following.VisitInput(addressee.id, now + timedelta(days=2), "総務省", "planned"),
            user=staff,
            now=now,
        )
        visit_file = following.add_visit_file(visit, "回答.pdf", b"%PDF-1.4 answer", user=staff, now=now)
        indicator = following.save_indicator(
            campaign, "現年分収納率", "%", True, [(2024, 98.4, 98.1)], user=staff, now=now
        )
        following.publish(campaign, True, user=staff, now=now)  # the outcome: every branch may read it
        from consult.review import groups as grouping

        group = grouping.confirm_group(opinion.item, [opinion.id], "財源の確保", user=staff, now=now)  # issue 12
        tokens = {role: accounts.create_token(user, "テスト", now=now) for role, user in users.items()}
        revoked_row, revoked = accounts.create_token(users["admin"], "取り消したトークン", now=now)
        accounts.revoke_token(revoked_row, user=users["admin"], now=now)
        accounts.set_active(users["disabled"], users["admin"], False, now=now)
        db.session.commit()
        ids = {
            "round_id": round_.id,
            "draft_round_id": draft_round.id,
            "item_id": items[0].id,
            "milestone_id": milestone.id,
            "attachment_id": attachment.id,
            "opinion_id": opinion.id,
            "campaign_id": campaign.id,
            "letter_id": letter.id,
            "request_item_id": request_item.id,
            "addressee_id": addressee.id,
            "visit_id": visit.id,
            "file_id": visit_file.id,
            "indicator_id": indicator.id,
            "template_id": answer_template.id,
            "group_id": group.id,
        }
        world = {
            "ids": ids,
            "orgs": {"hq": hq, "tokyo": tokyo, "hachioji": hachioji, "osaka": osaka},
            "users": people,
            "tokens": {role: secret for role, (_row, secret) in tokens.items()} | {"revoked": revoked},
            "token_ids": {role: row.id for role, (row, _secret) in tokens.items()},
            "revoked_token_id": revoked_row.id,
        }
    db_orgs = {"admin": hq, "staff": hq, "prefecture": tokyo, "union": hachioji, "other_prefecture": osaka}
    world["own_org"] = {role: org.id for role, org in db_orgs.items()}
    assert Round  # the model is imported for its mapper
    return world
