"""`consult letters --out DIR [--campaign ID]`: every addressee's letter as DOCX, for scripts and printing in bulk."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from consult.core.transaction import commits


@click.command("letters")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="書き出し先のフォルダ（なければ作成します）",
)
@click.option(
    "--campaign",
    "campaign_id",
    type=int,
    default=None,
    help="要請行動の番号（省略するとすべての要請行動を、要請行動ごとのフォルダに書き出します）",
)
@with_appcontext
def letters_command(out_dir: Path, campaign_id: int | None):
    """Write one DOCX per addressee and print each path; characters Word cannot hold are reported, not hidden."""
    from sqlalchemy import select

    from consult.core.text import describe_characters
    from consult.extensions import db
    from consult.letters.compose import current_template, letter_filename, preload, render_addressee
    from consult.letters.models import Campaign

    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            click.echo(f"要請行動 {campaign_id} はありません。番号を確かめてください。", err=True)
            raise SystemExit(1)
        targets = [(campaign, out_dir)]
    else:
        campaigns = db.session.scalars(select(Campaign).order_by(Campaign.id)).all()
        if not campaigns:
            click.echo("書き出す要請行動がありません。", err=True)
            raise SystemExit(1)
        targets = [(c, out_dir / _folder_name(c)) for c in campaigns]

    template = current_template()
    written = 0
    for campaign, folder in targets:
        if not campaign.addressees:
            click.echo(f"要請行動「{campaign.title}」には要請先がありません。", err=True)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        preload(campaign)
        for addressee in campaign.addressees:
            data, removed = render_addressee(addressee, template)
            path = folder / letter_filename(addressee)
            path.write_bytes(data)
            written += 1
            click.echo(str(path))
            if removed:
                click.echo(f"  注意: 文書に書き込めない文字（{describe_characters(removed)}）を除きました。", err=True)
    click.echo(f"{written}通の要請書を書き出しました。", err=True)


def _folder_name(campaign) -> str:
    from consult.core.text import file_name

    return f"{campaign.id:03d}_{file_name(campaign.title, 60, '_', joiner='_')}"


@click.command("import-letter")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--campaign", "campaign_id", type=int, default=None, help="取り込む先の要請行動の番号（省略すると新しく作成）"
)
@click.option(
    "--variant-of",
    "variant_of",
    type=int,
    default=None,
    help="この要請書（番号）の別の要請先として取り込み、違いだけを要請先ごとの変更として保存します",
)
@with_appcontext
@commits
def import_letter_command(file: Path, campaign_id: int | None, variant_of: int | None):
    """Read a Word letter; print {"campaign_id", "letter_id", "addressee_id"} as one line of JSON. What could not be
    placed is written to stderr, line by line, never dropped."""
    import json

    from consult.core.clock import app_now
    from consult.core.errors import DomainError
    from consult.extensions import db
    from consult.letters.models import Campaign, Letter
    from consult.letters.operations import import_letter

    campaign = letter = None
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            click.echo(f"要請行動 {campaign_id} はありません。番号を確かめてください。", err=True)
            raise SystemExit(1)
    if variant_of is not None:
        letter = db.session.get(Letter, variant_of)
        if letter is None or (campaign is not None and letter.campaign_id != campaign.id):
            click.echo(f"要請書 {variant_of} はありません（または指定の要請行動のものではありません）。", err=True)
            raise SystemExit(1)
    try:
        result = import_letter(file.read_bytes(), campaign=campaign, variant_of=letter, user=None, now=app_now())
    except DomainError as exc:
        click.echo(f"{file.name}: {exc}", err=True)
        raise SystemExit(1) from exc
    for note in result.notes:
        click.echo(f"注意: {note}", err=True)
    click.echo(
        json.dumps(
            {
                "campaign_id": result.campaign.id,
                "letter_id": result.letter.id,
                "addressee_id": result.addressee.id,
            }
        )
    )
