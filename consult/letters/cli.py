"""`consult letters --out DIR [--campaign ID]`: every addressee's letter as DOCX, for scripts and printing in bulk."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


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
