"""Refuse a ZIP upload (DOCX, XLSX, a backup) before anything unpacks it: not a ZIP, too many members, too big.

Reusable by every upload path (the app-wide guard of issue #8 can call ``check_zip`` as it is). The checks read
only the central directory, so a ZIP bomb is refused without inflating a byte of it:
- the file must be a ZIP (a legacy .doc/.xls, a PDF or an image gets its own message);
- at most ``max_members`` members, none encrypted;
- each member's declared size at most ``max_member_bytes``, all together at most ``max_total_bytes``;
- no member whose declared size is more than ``max_ratio`` times its compressed size, once it is larger
  than ``ratio_floor_bytes`` (small XML parts compress 10–30×; bombs compress 1,000×).

Why the declared sizes are enough: Python's ``zipfile`` (which python-docx and openpyxl read through) never
returns more than a member's declared size; a member that inflates beyond it fails its CRC check instead.
Every message is Japanese and says what to do.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 .doc, Excel .xls
_MB = 1024 * 1024


class ZipRefused(ValueError):
    """The upload is not a ZIP we agree to open; the message is for the user."""


@dataclass(frozen=True)
class ZipLimits:
    """Limits of one upload; the defaults suit office documents (a letter with a few images, a spreadsheet)."""

    max_input_bytes: int = 20 * _MB
    max_members: int = 1000
    max_member_bytes: int = 50 * _MB
    max_total_bytes: int = 100 * _MB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 * _MB


DEFAULT_LIMITS = ZipLimits()


def _megabytes(size: int) -> str:
    return f"{size / _MB:,.1f} MB"


def open_zip(data: bytes, limits: ZipLimits = DEFAULT_LIMITS, *, kind: str = "ファイル") -> zipfile.ZipFile:
    """The archive, once every check has passed; ``kind`` names the expected file in messages (DOCX ファイル)."""
    if len(data) > limits.max_input_bytes:
        size, limit = _megabytes(len(data)), _megabytes(limits.max_input_bytes)
        raise ZipRefused(f"{kind}が大きすぎます（{size}、上限 {limit}）。")
    if data[:8] == OLE2_MAGIC:
        raise ZipRefused(
            "古い Office 形式（.doc / .xls）は読めません。Word や Excel で開き、新しい形式"
            f"（.docx / .xlsx）で保存し直してから{kind}を選んでください。"
        )
    if not data.startswith(b"PK"):
        raise ZipRefused(f"{kind}ではありません（中身が ZIP 形式ではありません）。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ZipRefused(f"{kind}が壊れているため読めません。") from None
    check_members(members, limits, kind=kind)
    return archive


def check_members(
    members: list[zipfile.ZipInfo], limits: ZipLimits = DEFAULT_LIMITS, *, kind: str = "ファイル"
) -> None:
    """Refuse by the central directory alone: member count, encryption, declared sizes and compression ratios."""
    if len(members) > limits.max_members:
        raise ZipRefused(f"{kind}の中身の数が多すぎます（{len(members):,} 個、上限 {limits.max_members:,} 個）。")
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise ZipRefused(f"{kind}にパスワードがかかっています。パスワードを外して保存し直してください。")
        if info.file_size > limits.max_member_bytes:
            raise ZipRefused(
                f"{kind}の中身「{info.filename[:60]}」が大きすぎます（展開すると"
                f" {_megabytes(info.file_size)}、上限 {_megabytes(limits.max_member_bytes)}）。"
            )
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ZipRefused(
                f"{kind}の中身「{info.filename[:60]}」の圧縮率が異常です（{info.compress_size:,} バイトが"
                f" {_megabytes(info.file_size)} に展開されます）。ZIP 爆弾の疑いがあるため開きません。"
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ZipRefused(f"{kind}は展開すると大きすぎます（上限 {_megabytes(limits.max_total_bytes)}）。")


def check_zip(data: bytes, limits: ZipLimits = DEFAULT_LIMITS, *, kind: str = "ファイル") -> None:
    """Raise ZipRefused (a ValueError with a Japanese message) unless the bytes are a ZIP within the limits."""
    open_zip(data, limits, kind=kind).close()
