"""Request campaigns in the API: campaigns, their letters, request items with the opinions they take up,
addressees, and the DOCX of each letter and the ZIP of a campaign.

Request campaigns are headquarters' work (Campaign.visible_to): a branch gets 403 on the list and 404 on a
campaign, which it may not know exists. The operations check every text as they do for the pages and name the
field of each refusal (InputErrors), which the API returns per field.
"""

from __future__ import annotations

import io
import tempfile

from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest.fields import Upload
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from consult.answers.models import STANCES, Answer, Opinion
from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.core.downloads import private_file
from consult.core.signals import answers
from consult.core.text import file_name
from consult.extensions import db
from consult.letters import compose, numbering
from consult.letters import operations as letters
from consult.letters.models import (
    ADDRESSEE_KINDS,
    DATE_MODES,
    DATE_STYLES,
    HONORIFICS,
    PRINT_ORGANISATION,
    Addressee,
    Campaign,
    Letter,
    RequestItem,
    RequestItemOpinion,
)
from consult.letters.signals import item_predecessors
from consult.letters.views.common import DOCX_MIME

blp = api.blueprint("letters", "要請行動: 要請書、要請項目と結び付けた意見、要請先、要請書の DOCX と一括 ZIP")

TEXT_MAX = 20_000  # the operations hold each text to its own limit (letters.operations.LIMITS)


# ---------------------------------------------------------------- schemas


class RequestItemSchema(s.Schema):
    id = s.Integer(required=True)
    parent_id = s.Integer(allow_none=True, required=True, metadata={"description": "大項目（…について）の id"})
    position = s.Integer(required=True)
    label = s.String(required=True, metadata={"description": "印刷される番号（１．（２）など）"})
    text = s.String(required=True)
    opinion_ids = s.List(s.Integer(), required=True, metadata={"description": "この要請項目が取り上げた意見"})
    predecessor_id = s.Integer(
        allow_none=True, required=True, metadata={"description": "引き継いだ前年の要請項目（なければ null）"}
    )


class LetterSchema(s.Schema):
    id = s.Integer(required=True)
    campaign_id = s.Integer(required=True)
    position = s.Integer(required=True)
    title = s.String(required=True)
    greeting = s.String(required=True)
    background = s.String(required=True, metadata={"description": "本文（1行が1段落）"})
    closing = s.String(required=True)
    numbering = s.Choice(list(numbering.STYLES), required=True)
    fullwidth_digits = s.Boolean(required=True)
    version = s.Integer(required=True)
    items = s.List(s.Nested(RequestItemSchema), required=True, metadata={"description": "印刷の順"})


class AddresseeSchema(s.Schema):
    id = s.Integer(required=True)
    letter_id = s.Integer(required=True)
    position = s.Integer(required=True)
    organisation = s.String(required=True)
    kind = s.Choice(list(ADDRESSEE_KINDS), required=True)
    title = s.String(required=True)
    name = s.String(required=True)
    honorific = s.Choice(list(HONORIFICS), required=True)
    greeting = s.String(required=True, metadata={"description": "空なら要請書のあいさつ文"})
    extra_paragraph = s.String(required=True)
    item_ids = s.List(
        s.Integer(), allow_none=True, required=True, metadata={"description": "渡す項目（null: すべての項目）"}
    )
    filename = s.String(required=True, metadata={"description": "DOCX のファイル名"})
    version = s.Integer(required=True, metadata={"description": "要請先（とその変更）の版"})


class CampaignSchema(s.Schema):
    id = s.Integer(required=True)
    title = s.String(required=True)
    round_id = s.Integer(allow_none=True, required=True, metadata={"description": "もとになった討議"})
    date_year = s.Integer(required=True)
    date_month = s.Integer(required=True)
    date_day = s.Integer(allow_none=True, required=True, metadata={"description": "null: 日が未定（●）"})
    date_style = s.Choice(list(DATE_STYLES), required=True)
    date_text = s.String(required=True, metadata={"description": "印刷される日付（2025年3月●日など）"})
    sender_org = s.String(required=True)
    sender_title = s.String(required=True)
    sender_name = s.String(required=True)
    created_at = s.Time(required=True)
    version = s.Integer(required=True)


class CampaignDetailSchema(CampaignSchema):
    letters = s.List(s.Nested(LetterSchema), required=True)
    addressees = s.List(s.Nested(AddresseeSchema), required=True)


class CampaignInSchema(s.Schema):
    title = s.String(max_length=TEXT_MAX)
    round_id = s.Id(allow_none=True)
    date_year = s.Integer()
    date_month = s.Integer()
    date_day = s.Integer(allow_none=True, metadata={"description": "null: 日が未定（●）"})
    date_style = s.Choice(list(DATE_STYLES))
    sender_org = s.String(max_length=TEXT_MAX)
    sender_title = s.String(max_length=TEXT_MAX)
    sender_name = s.String(max_length=TEXT_MAX)


class NewCampaignSchema(CampaignInSchema):
    title = s.String(required=True, max_length=TEXT_MAX)
    date_year = s.Integer(required=True)
    date_month = s.Integer(required=True)


class CampaignChangeSchema(CampaignInSchema):
    version = s.Integer(metadata={"description": "読み込んだときの版。違えば 409（If-Match でも可）"})


class LetterInSchema(s.Schema):
    title = s.String(max_length=TEXT_MAX)
    greeting = s.String(max_length=TEXT_MAX)
    background = s.String(max_length=TEXT_MAX)
    closing = s.String(max_length=TEXT_MAX)
    numbering = s.Choice(list(numbering.STYLES))
    fullwidth_digits = s.Boolean()


class NewLetterSchema(LetterInSchema):
    title = s.String(required=True, max_length=TEXT_MAX)


class LetterChangeSchema(LetterInSchema):
    version = s.Integer(metadata={"description": "読み込んだときの版。違えば 409（If-Match でも可）"})


class NewRequestItemSchema(s.Schema):
    text = s.String(required=True, max_length=TEXT_MAX)
    parent_id = s.Id(allow_none=True, metadata={"description": "この大項目の下に追加（省略: 末尾に大項目として）"})


class RequestItemChangeSchema(s.Schema):
    text = s.String(required=True, max_length=TEXT_MAX)


class LinkSchema(s.Schema):
    opinion_ids = s.List(s.Id(), required=True, max_items=10_000)


class LinkedOpinionSchema(s.Schema):
    id = s.Integer(required=True)
    organization_id = s.Integer(required=True)
    organization_name = s.String(required=True)
    item_id = s.Integer(allow_none=True, required=True)
    stance = s.Choice(list(STANCES), required=True)
    heading = s.String(required=True)
    proposed_text = s.String(required=True)
    reason = s.String(required=True)


class AddresseeInSchema(s.Schema):
    letter_id = s.Id()
    organisation = s.String(max_length=TEXT_MAX)
    kind = s.Choice(list(ADDRESSEE_KINDS))
    title = s.String(max_length=TEXT_MAX)
    name = s.String(max_length=TEXT_MAX)
    honorific = s.Choice(list(HONORIFICS))
    greeting = s.String(max_length=TEXT_MAX)
    extra_paragraph = s.String(max_length=TEXT_MAX)
    item_ids = s.List(s.Id(), allow_none=True, max_items=10_000, metadata={"description": "null: すべての項目"})


class AddresseeChangeSchema(AddresseeInSchema):
    version = s.Integer(metadata={"description": "読み込んだときの版。違えば 409（If-Match でも可）"})


class NewAddresseeSchema(AddresseeInSchema):
    letter_id = s.Id(required=True)
    organisation = s.String(required=True, max_length=TEXT_MAX)


# ---------------------------------------------------------------- loading and access


def _campaign(campaign_id: int) -> Campaign:
    return api.found(db.session.get(Campaign, campaign_id), lambda _c: Campaign.visible_to(current_user))


def _letter_of(campaign: Campaign, letter_id: int) -> Letter:
    return api.found(db.session.get(Letter, letter_id), lambda letter: letter.campaign_id == campaign.id)


def _item_of(letter: Letter, item_id: int) -> RequestItem:
    return api.found(db.session.get(RequestItem, item_id), lambda item: item.letter_id == letter.id)


def _addressee_of(campaign: Campaign, addressee_id: int) -> Addressee:
    return api.found(db.session.get(Addressee, addressee_id), lambda a: a.campaign_id == campaign.id)


def _campaign_data(campaign: Campaign) -> dict:
    data = {name: getattr(campaign, name) for name in CampaignSchema().fields if name != "date_text"}
    return {**data, "date_text": compose.date_text(campaign)}


def _letter_data(letter: Letter) -> dict:
    labels = compose.item_labels(letter)
    items = [entry for top in letter.top_items() for entry in (top, *top.children)]
    links: dict[int, list[int]] = {item.id: [] for item in items}
    if items:
        for item_id, opinion_id in db.session.execute(
            select(RequestItemOpinion.request_item_id, RequestItemOpinion.opinion_id)
            .where(RequestItemOpinion.request_item_id.in_(list(links)))
            .order_by(RequestItemOpinion.opinion_id)
        ):
            links[item_id].append(opinion_id)
    fields = ("id", "campaign_id", "position", "title", "greeting", "background", "closing", "numbering")
    before = _predecessors(list(links))
    return {
        **{name: getattr(letter, name) for name in fields},
        "fullwidth_digits": letter.fullwidth_digits,
        "version": letter.version,
        "items": [_item_data(item, labels, links[item.id], before.get(item.id)) for item in items],
    }


def _predecessors(item_ids: list[int]) -> dict[int, int]:
    """Last year's request item each of these continues, as the follow-up feature knows it (letters.signals)."""
    before: dict[int, int] = {}
    for found in answers(item_predecessors, item_ids):
        before.update(found)
    return before


def _item_data(item: RequestItem, labels: dict[int, str], opinion_ids: list[int], predecessor_id=None) -> dict:
    return {
        "id": item.id,
        "parent_id": item.parent_id,
        "position": item.position,
        "label": labels.get(item.id, ""),
        "text": item.text,
        "opinion_ids": opinion_ids,
        "predecessor_id": predecessor_id,
    }


def _addressee_data(addressee: Addressee) -> dict:
    fields = ("id", "letter_id", "position", "organisation", "kind", "title", "name", "honorific", "greeting")
    return {
        **{name: getattr(addressee, name) for name in fields},
        "extra_paragraph": addressee.extra_paragraph,
        "item_ids": None if addressee.all_items else sorted(item.id for item in addressee.selected),
        "filename": compose.letter_filename(addressee),
        "version": addressee.version,
    }


def campaign_detail(campaign_id: int):
    campaign = db.session.scalars(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .options(
            selectinload(Campaign.letters).selectinload(Letter.items).selectinload(RequestItem.children),
            selectinload(Campaign.addressees).selectinload(Addressee.selected),
        )
        .execution_options(populate_existing=True)
    ).one()
    data = {
        **_campaign_data(campaign),
        "letters": [_letter_data(letter) for letter in campaign.letters],
        "addressees": [_addressee_data(addressee) for addressee in campaign.addressees],
    }
    return data, api.etag(campaign.version)


def _campaign_input(data: dict, campaign: Campaign | None = None) -> letters.CampaignInput:
    """The body over what is stored (a new campaign: over the defaults, the sender being the caller's body)."""

    def value(name, default):
        return data[name] if name in data else (getattr(campaign, name) if campaign else default)

    return letters.CampaignInput(
        title=value("title", ""),
        date_year=value("date_year", None),
        date_month=value("date_month", None),
        date_day=value("date_day", None),
        date_style=value("date_style", "western"),
        sender_org=value("sender_org", current_user.organization.name),
        sender_title=value("sender_title", ""),
        sender_name=value("sender_name", ""),
        round_id=value("round_id", None),
    )


def _letter_input(data: dict, letter: Letter | None = None) -> letters.LetterInput:
    defaults = letters.LetterInput(title="")
    names = ("title", "greeting", "background", "closing", "numbering", "fullwidth_digits")
    return letters.LetterInput(
        **{name: data.get(name, getattr(letter, name) if letter else getattr(defaults, name)) for name in names}
    )


def _addressee_input(data: dict, addressee: Addressee | None = None) -> letters.AddresseeInput:
    defaults = letters.AddresseeInput(organisation="")
    names = ("organisation", "kind", "title", "name", "honorific", "greeting", "extra_paragraph")
    return letters.AddresseeInput(
        **{name: data.get(name, getattr(addressee, name) if addressee else getattr(defaults, name)) for name in names}
    )


# ---------------------------------------------------------------- campaigns


@blp.route("/campaigns")
class Campaigns(api.Resource):
    def load(self):
        api.require(Campaign.visible_to(current_user))

    @blp.response(200, CampaignSchema(many=True))
    def get(self):
        """Every request campaign, newest first."""
        campaigns = db.session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()))
        return [_campaign_data(campaign) for campaign in campaigns]

    @blp.arguments(NewCampaignSchema)
    @blp.response(201, CampaignDetailSchema)
    def post(self, data):
        """Create a campaign (the sender is headquarters unless given); then add letters and addressees."""
        campaign = letters.create_campaign(_campaign_input(data), request_now(), user=current_user)
        return campaign_detail(campaign.id)


@blp.route("/campaigns/<id:campaign_id>")
class CampaignResource(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.response(200, CampaignDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, campaign_id):
        """One campaign with its letters (and their request items) and addressees."""
        return campaign_detail(self.campaign.id)

    @blp.arguments(CampaignChangeSchema)
    @blp.response(200, CampaignDetailSchema)
    def patch(self, data, campaign_id):
        """Change the title, date, sender or source round; a stale version answers 409."""
        expected = api.expected_version(data.get("version"))
        letters.update_campaign(
            self.campaign, expected, _campaign_input(data, self.campaign), user=current_user, now=request_now()
        )
        return campaign_detail(self.campaign.id)


# ---------------------------------------------------------------- letters


@blp.route("/campaigns/<id:campaign_id>/letters")
class Letters(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.response(200, LetterSchema(many=True))
    def get(self, campaign_id):
        """The campaign's letters in order, each with its request items."""
        return [_letter_data(letter) for letter in self.campaign.letters]

    @blp.arguments(NewLetterSchema)
    @blp.response(201, LetterSchema)
    def post(self, data, campaign_id):
        """Add a letter at the end of the campaign's letters."""
        letter = letters.add_letter(self.campaign, _letter_input(data), user=current_user, now=request_now())
        return _letter_data(letter)


@blp.route("/campaigns/<id:campaign_id>/letters/<id:letter_id>")
class LetterResource(api.Resource):
    def load(self, campaign_id, letter_id):
        self.campaign = _campaign(campaign_id)
        self.letter = _letter_of(self.campaign, letter_id)

    @blp.response(200, LetterSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, campaign_id, letter_id):
        """One letter with its request items in print order, each with its printed number and opinions."""
        return _letter_data(self.letter), api.etag(self.letter.version)

    @blp.arguments(LetterChangeSchema)
    @blp.response(200, LetterSchema)
    def patch(self, data, campaign_id, letter_id):
        """Change the letter's text or numbering; a stale version answers 409."""
        expected = api.expected_version(data.get("version"))
        letter = letters.update_letter(
            self.letter, expected, _letter_input(data, self.letter), user=current_user, now=request_now()
        )
        return _letter_data(letter)

    @blp.response(204)
    def delete(self, campaign_id, letter_id):
        """Delete a letter that no addressee receives."""
        letters.remove_letter(self.letter, user=current_user, now=request_now())
        return api.no_content()


@blp.route("/campaigns/<id:campaign_id>/letters/<id:letter_id>/items")
class RequestItems(api.Resource):
    def load(self, campaign_id, letter_id):
        self.campaign = _campaign(campaign_id)
        self.letter = _letter_of(self.campaign, letter_id)

    @blp.arguments(NewRequestItemSchema)
    @blp.response(201, RequestItemSchema)
    def post(self, data, campaign_id, letter_id):
        """Add a request (…こと。) or a section heading (…について) at the end of the letter or of a section."""
        parent = _item_of(self.letter, data["parent_id"]) if data.get("parent_id") else None
        item = letters.add_request_item(self.letter, data["text"], parent=parent, user=current_user, now=request_now())
        return _item_data(item, compose.item_labels(self.letter), [])


class _ItemPath(api.Resource):
    def load(self, campaign_id, letter_id, item_id, **path):
        self.campaign = _campaign(campaign_id)
        self.letter = _letter_of(self.campaign, letter_id)
        self.item = _item_of(self.letter, item_id)

    def shown(self) -> dict:
        db.session.expire(self.letter, ["items"])
        links = [op.id for op in sorted(self.item.opinions, key=lambda op: op.id)]
        return _item_data(
            self.item, compose.item_labels(self.letter), links, _predecessors([self.item.id]).get(self.item.id)
        )


@blp.route("/campaigns/<id:campaign_id>/letters/<id:letter_id>/items/<id:item_id>")
class RequestItemResource(_ItemPath):
    @blp.response(200, RequestItemSchema)
    def get(self, campaign_id, letter_id, item_id):
        """One request item with its printed number and the opinions it takes up."""
        return self.shown()

    @blp.arguments(RequestItemChangeSchema)
    @blp.response(200, RequestItemSchema)
    def patch(self, data, campaign_id, letter_id, item_id):
        """Change the wording."""
        letters.update_request_item(self.item, data["text"], user=current_user, now=request_now())
        return self.shown()

    @blp.response(204)
    def delete(self, campaign_id, letter_id, item_id):
        """Delete the item (a section with its items), unless an addressee would be left with nothing."""
        letters.remove_request_item(self.item, user=current_user, now=request_now())
        return api.no_content()


@blp.route("/campaigns/<id:campaign_id>/letters/<id:letter_id>/items/<id:item_id>/move")
class MoveRequestItem(_ItemPath):
    @blp.arguments(s.MoveSchema)
    @blp.response(200, LetterSchema)
    def post(self, data, campaign_id, letter_id, item_id):
        """Swap the item with its neighbour on the same level; returns the letter in its new order."""
        step = -1 if data["direction"] == "up" else 1
        letters.move_request_item(self.item, step, user=current_user, now=request_now())
        return _letter_data(self.letter)


@blp.route("/campaigns/<id:campaign_id>/letters/<id:letter_id>/items/<id:item_id>/opinions")
class ItemOpinions(_ItemPath):
    @blp.response(200, LinkedOpinionSchema(many=True))
    def get(self, campaign_id, letter_id, item_id):
        """The opinions this request item takes up, with their organisations."""
        return _linked(self.item)

    @blp.arguments(LinkSchema)
    @blp.response(200, LinkedOpinionSchema(many=True))
    def post(self, data, campaign_id, letter_id, item_id):
        """Link submitted opinions of the campaign's source round to this item (links already there stay)."""
        letters.link_opinions(self.item, data["opinion_ids"], user=current_user, now=request_now())
        return _linked(self.item)


@blp.route("/campaigns/<id:campaign_id>/letters/<id:letter_id>/items/<id:item_id>/opinions/<id:opinion_id>")
class ItemOpinion(_ItemPath):
    @blp.response(204)
    def delete(self, campaign_id, letter_id, item_id, opinion_id):
        """Unlink one opinion from the item (the opinion itself stays)."""
        opinion = api.found(db.session.get(Opinion, opinion_id))
        if not letters.unlink_opinion(self.item, opinion, user=current_user, now=request_now()):
            api.found(None)
        return api.no_content()


def _linked(item: RequestItem) -> list[dict]:
    opinions = db.session.scalars(
        select(Opinion)
        .join(RequestItemOpinion, RequestItemOpinion.opinion_id == Opinion.id)
        .where(RequestItemOpinion.request_item_id == item.id)
        .options(joinedload(Opinion.answer).joinedload(Answer.organization))
        .order_by(Opinion.id)
    ).unique()
    return [
        {
            "id": op.id,
            "organization_id": op.answer.organization_id,
            "organization_name": op.answer.organization.name,
            "item_id": op.item_id,
            "stance": op.stance,
            "heading": op.heading,
            "proposed_text": op.proposed_text,
            "reason": op.reason,
        }
        for op in opinions
    ]


# ---------------------------------------------------------------- addressees


@blp.route("/campaigns/<id:campaign_id>/addressees")
class Addressees(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.arguments(NewAddresseeSchema)
    @blp.response(201, AddresseeSchema)
    def post(self, data, campaign_id):
        """Add an addressee receiving one of the campaign's letters, whole or (item_ids) in part."""
        letter = db.session.get(Letter, data["letter_id"])
        if letter is None or letter.campaign_id != self.campaign.id:
            api.invalid("letter_id", _("この要請行動の要請書から選んでください。"))
        now = request_now()
        addressee = letters.add_addressee(self.campaign, letter, _addressee_input(data), user=current_user, now=now)
        letters.set_addressee_items(addressee, data.get("item_ids"), user=current_user, now=now)
        return _addressee_data(addressee)


@blp.route("/campaigns/<id:campaign_id>/addressees/<id:addressee_id>")
class AddresseeResource(api.Resource):
    def load(self, campaign_id, addressee_id):
        self.campaign = _campaign(campaign_id)
        self.addressee = _addressee_of(self.campaign, addressee_id)

    @blp.response(200, AddresseeSchema)
    def get(self, campaign_id, addressee_id):
        """One addressee."""
        return _addressee_data(self.addressee)

    @blp.arguments(AddresseeChangeSchema)
    @blp.response(200, AddresseeSchema)
    def patch(self, data, campaign_id, addressee_id):
        """Change who the addressee is, their own text, their letter or the items they get; a stale version
        answers 409."""
        addressee, now = self.addressee, request_now()
        expected = api.expected_version(data.pop("version", None))
        letter = db.session.get(Letter, data.get("letter_id", addressee.letter_id))
        if letter is None or letter.campaign_id != self.campaign.id:
            api.invalid("letter_id", _("この要請行動の要請書から選んでください。"))
        letters.update_addressee(
            addressee, letter, _addressee_input(data, addressee), expected_version=expected, user=current_user, now=now
        )
        if "item_ids" in data:
            letters.set_addressee_items(addressee, data["item_ids"], user=current_user, now=now)
        return _addressee_data(addressee)

    @blp.response(204)
    def delete(self, campaign_id, addressee_id):
        """Delete the addressee (the letter stays for the others)."""
        letters.remove_addressee(self.addressee, user=current_user, now=request_now())
        return api.no_content()


# ---------------------------------------------------------------- documents


_BINARY = {"type": "string", "format": "binary"}


@blp.route("/campaigns/<id:campaign_id>/addressees/<id:addressee_id>/letter.docx")
class AddresseeLetter(api.Resource):
    def load(self, campaign_id, addressee_id):
        self.campaign = _campaign(campaign_id)
        self.addressee = _addressee_of(self.campaign, addressee_id)

    @blp.response(200, _BINARY, content_type=DOCX_MIME, description="The addressee's letter in Word format")
    def get(self, campaign_id, addressee_id):
        """The addressee's letter as DOCX, from the current Word template (the same file as the page's)."""
        data, _removed = compose.render_addressee(self.addressee)
        return private_file(io.BytesIO(data), DOCX_MIME, compose.letter_filename(self.addressee))


@blp.route("/campaigns/<id:campaign_id>/letters.zip")
class CampaignZip(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.response(200, _BINARY, content_type="application/zip", description="One DOCX per addressee")
    def get(self, campaign_id):
        """Every addressee's letter, one DOCX each, in one ZIP in the addressees' order."""
        if not self.campaign.addressees:
            return api.problems.problem(
                409, _("要請先がまだありません。要請先を登録してから一括ダウンロードしてください。"), kind="state"
            )
        spool = tempfile.TemporaryFile()  # closed by the response once sent; 50 letters never sit in memory
        try:
            compose.campaign_zip(self.campaign, spool)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        name = file_name(self.campaign.title, 80, "letters")
        return private_file(spool, "application/zip", f"{name}_要請書.zip")


# ---------------------------------------------------------------- overrides, copies and import (issue 13)


class OutlineRowSchema(s.Schema):
    request_item_id = s.Id(allow_none=True, metadata={"description": "共通の項目の id（null: この要請先だけの行）"})
    heading = s.Boolean(load_default=False, metadata={"description": "大項目（…について）の行か"})
    text = s.String(allow_none=True, max_length=TEXT_MAX, metadata={"description": "null: 共通の項目の文言のまま"})


class OverridesInSchema(s.Schema):
    date_mode = s.Choice(
        list(DATE_MODES), metadata={"description": "shared: 要請行動の日付 / fixed / undecided（日は●）"}
    )
    date_year = s.Integer(allow_none=True)
    date_month = s.Integer(allow_none=True)
    date_day = s.Integer(allow_none=True)
    date_style = s.Choice(list(DATE_STYLES))
    one_line = s.Boolean(metadata={"description": "肩書と氏名を1行に"})
    spread = s.Boolean(metadata={"description": "肩書と氏名を均等割りに"})
    print_organisation = s.Choice(list(PRINT_ORGANISATION))
    closing = s.String(allow_none=True, max_length=TEXT_MAX, metadata={"description": "null: 要請書の結びの文"})
    numbering = s.Choice(list(numbering.STYLES), allow_none=True, metadata={"description": "null: 要請書のとおり"})
    fullwidth_digits = s.Boolean(allow_none=True, metadata={"description": "null: 要請書のとおり"})
    background = s.String(max_length=TEXT_MAX, metadata={"description": "この要請先の本文（1行が1段落）"})
    outline = s.List(
        s.Nested(OutlineRowSchema),
        allow_none=True,
        max_items=10_000,
        metadata={"description": "記の下の行の順（null: 要請書のとおり）"},
    )


class OverridesChangeSchema(OverridesInSchema):
    version = s.Integer(metadata={"description": "読み込んだときの版。違えば 409（If-Match でも可）"})


class OverridesSchema(s.Schema):
    addressee_id = s.Integer(required=True)
    version = s.Integer(required=True)
    date_mode = s.Choice(list(DATE_MODES), required=True)
    date_year = s.Integer(allow_none=True, required=True)
    date_month = s.Integer(allow_none=True, required=True)
    date_day = s.Integer(allow_none=True, required=True)
    date_style = s.Choice(list(DATE_STYLES), required=True)
    date_text = s.String(required=True, metadata={"description": "この要請先の要請書に印字される日付"})
    one_line = s.Boolean(required=True)
    spread = s.Boolean(required=True)
    print_organisation = s.Choice(list(PRINT_ORGANISATION), required=True)
    closing = s.String(allow_none=True, required=True)
    numbering = s.Choice(list(numbering.STYLES), allow_none=True, required=True)
    fullwidth_digits = s.Boolean(allow_none=True, required=True)
    background = s.String(required=True)
    outline = s.List(s.Nested(OutlineRowSchema), allow_none=True, required=True)


class NewDateSchema(s.Schema):
    date_year = s.Integer(required=True)
    date_month = s.Integer(required=True)
    date_day = s.Integer(allow_none=True, load_default=None, metadata={"description": "null: 日が未定（●）"})


class CampaignCopySchema(NewDateSchema):
    title = s.String(max_length=TEXT_MAX, metadata={"description": "省略: 元の名前のまま"})


class AddresseeCopySchema(s.Schema):
    date_year = s.Integer()
    date_month = s.Integer()
    date_day = s.Integer(allow_none=True, metadata={"description": "null: 日が未定（●）"})


class LetterCopySchema(s.Schema):
    campaign_id = s.Id(metadata={"description": "写す先の要請行動（省略: 同じ要請行動）"})


class ImportArgs(s.Schema):
    campaign_id = s.Id(strict=False, metadata={"description": "取り込む先の要請行動（省略: 新しく作成）"})
    variant_of = s.Id(strict=False, metadata={"description": "この要請書の別の要請先として取り込み、違いだけを保存"})


class ImportFileSchema(s.Schema):
    file = Upload(required=True, metadata={"description": "要請書の Word 文書（.docx）"})


class UnplacedSchema(s.Schema):
    paragraph = s.Integer(required=True, metadata={"description": "何段落目か（1から）"})
    text = s.String(required=True)
    reason = s.String(required=True)


class ImportedSchema(s.Schema):
    campaign_id = s.Integer(required=True)
    letter_id = s.Integer(required=True)
    addressee_id = s.Integer(required=True)
    unplaced = s.List(s.Nested(UnplacedSchema), required=True, metadata={"description": "置き場所のなかった段落"})
    notes = s.List(s.String(), required=True, metadata={"description": "読み取ったが保存しなかったこと、疑問点"})


def _overrides_data(addressee: Addressee) -> dict:
    typed = letters.overrides_input(addressee)
    outline = (
        [{"request_item_id": i, "heading": h, "text": t} for i, h, t in typed.outline]
        if typed.outline is not None
        else None
    )
    return {
        "addressee_id": addressee.id,
        "version": addressee.version,
        **{name: getattr(typed, name) for name in OverridesSchema().fields if hasattr(typed, name)},
        "date_text": compose.build_letter(addressee).date_text,
        "outline": outline,
    }


def _overrides_input(data: dict, addressee: Addressee) -> letters.OverridesInput:
    """The body over what is stored: an omitted field stays as it is; outline null is the letter's own outline."""
    stored = letters.overrides_input(addressee)
    typed = {name: data.get(name, getattr(stored, name)) for name in vars(stored) if name != "outline"}
    if "outline" in data:
        rows = data["outline"]
        typed["outline"] = (
            [] if rows is None else [(r.get("request_item_id"), r["heading"], r.get("text")) for r in rows]
        )
    else:
        typed["outline"] = None
    return letters.OverridesInput(**typed)


def _new_date(data: dict, default: tuple[int, int, int | None] | None = None) -> tuple[int, int, int | None] | None:
    if "date_year" not in data and "date_month" not in data:
        return default
    if "date_year" not in data or "date_month" not in data:
        api.invalid("date_year", _("新しい日付の年と月を両方入力してください。"))
    return data["date_year"], data["date_month"], data.get("date_day")


@blp.route("/campaigns/<id:campaign_id>/addressees/<id:addressee_id>/overrides")
class AddresseeOverrides(api.Resource):
    def load(self, campaign_id, addressee_id):
        self.campaign = _campaign(campaign_id)
        self.addressee = _addressee_of(self.campaign, addressee_id)

    @blp.response(200, OverridesSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, campaign_id, addressee_id):
        """What this addressee's letter changes of the shared letter (the overrides page's fields)."""
        return _overrides_data(self.addressee), api.etag(self.addressee.version)

    @blp.arguments(OverridesChangeSchema)
    @blp.response(200, OverridesSchema)
    def put(self, data, campaign_id, addressee_id):
        """Store this addressee's overrides (omitted fields stay as stored); a stale version answers 409."""
        expected = api.expected_version(data.pop("version", None))
        letters.set_addressee_overrides(
            self.addressee,
            _overrides_input(data, self.addressee),
            expected_version=expected,
            user=current_user,
            now=request_now(),
        )
        return _overrides_data(self.addressee), api.etag(self.addressee.version)


@blp.route("/campaigns/<id:campaign_id>/copy")
class CampaignCopy(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.arguments(CampaignCopySchema)
    @blp.response(201, CampaignDetailSchema)
    def post(self, data, campaign_id):
        """Copy the whole campaign (letters, items, addressees with their overrides) with a new date."""
        copy = letters.copy_campaign(
            self.campaign, _new_date(data), data.get("title"), user=current_user, now=request_now()
        )
        return campaign_detail(copy.id)


@blp.route("/campaigns/<id:campaign_id>/letters/<id:letter_id>/copy")
class LetterCopy(api.Resource):
    def load(self, campaign_id, letter_id):
        self.campaign = _campaign(campaign_id)
        self.letter = _letter_of(self.campaign, letter_id)

    @blp.arguments(LetterCopySchema)
    @blp.response(201, LetterSchema)
    def post(self, data, campaign_id, letter_id):
        """Copy the letter with its items, into this campaign or another one (which has the new date)."""
        target = self.campaign
        if data.get("campaign_id") is not None:
            target = db.session.get(Campaign, data["campaign_id"])
            if target is None:
                api.invalid("campaign_id", _("写す先の要請行動が見つかりません。"))
        copy = letters.copy_letter(self.letter, target, user=current_user, now=request_now())
        return _letter_data(copy)


@blp.route("/campaigns/<id:campaign_id>/addressees/<id:addressee_id>/copy")
class AddresseeCopy(api.Resource):
    def load(self, campaign_id, addressee_id):
        self.campaign = _campaign(campaign_id)
        self.addressee = _addressee_of(self.campaign, addressee_id)

    @blp.arguments(AddresseeCopySchema)
    @blp.response(201, AddresseeSchema)
    def post(self, data, campaign_id, addressee_id):
        """Copy the addressee with every override, e.g. for the next visit with its own date."""
        copy = letters.copy_addressee(self.addressee, date=_new_date(data), user=current_user, now=request_now())
        return _addressee_data(copy)


@blp.route("/letters/import")
class LetterImport(api.Resource):
    def load(self):
        api.require(Campaign.visible_to(current_user))

    @blp.arguments(ImportArgs, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(201, ImportedSchema)
    def post(self, args, files, **_path):
        """Import a Word letter (as `consult import-letter`): a new campaign unless campaign_id is given; with
        variant_of, another addressee of that letter storing only its differences. Nothing read is dropped: what
        had no place is in `unplaced`, what was not stored in `notes`."""
        campaign = letter = None
        if args.get("campaign_id") is not None:
            campaign = db.session.get(Campaign, args["campaign_id"])
            if campaign is None:
                api.invalid("campaign_id", _("要請行動が見つかりません。番号を確かめてください。"))
        if args.get("variant_of") is not None:
            letter = db.session.get(Letter, args["variant_of"])
            if letter is None:
                api.invalid("variant_of", _("要請書が見つかりません。番号を確かめてください。"))
        result = letters.import_letter(
            files["file"].read(), campaign=campaign, variant_of=letter, user=current_user, now=request_now()
        )
        return _imported_data(result)


def _imported_data(result) -> dict:
    return {
        "campaign_id": result.campaign.id,
        "letter_id": result.letter.id,
        "addressee_id": result.addressee.id,
        "unplaced": [{"paragraph": u.index + 1, "text": u.text, "reason": u.reason} for u in result.imported.unplaced],
        "notes": result.notes,
    }
