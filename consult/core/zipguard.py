"""The check every ZIP-based upload (DOCX, XLSX) passes before any parser opens it: no zip bombs.

A DOCX or XLSX is a ZIP archive. A small upload can unpack to gigabytes (a 1 MB file whose document.xml
inflates to 1 GB), and python-docx or openpyxl would then try to hold it all in memory. check_zip() reads only
the archive's directories and then inflates each member in bounded chunks, stopping at the first limit it
crosses: too many members, a member or the whole archive too large once unpacked, or a compression ratio no
real office document has. ZIP64 archives are refused outright (no upload here needs one). Its refusal is a
DomainError with a message in Japanese; nothing is parsed before the check has passed.
"""

from __future__ import annotations

import io
import struct
import zipfile

from flask_babel import lazy_gettext as _l

from consult.core.errors import TranslatedError

MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 100 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed; Word's and Excel's XML stays far below
RATIO_FLOOR = 1024 * 1024  # small members may compress very well (empty styles): ratios count above this size
CHUNK = 64 * 1024

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 .doc, Excel 97-2003 .xls
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"

BROKEN = _l(
    "ファイルが壊れているか、ZIP 形式（Word・Excel のファイル）ではありません。保存し直してから選んでください。"
)
OLD_OFFICE = _l(
    "古い Office 形式（.doc / .xls）は読めません。Word や Excel で開き、新しい形式（.docx / .xlsx）で保存し直してから"
    "選んでください。"
)
ENCRYPTED = _l("ファイルにパスワードがかかっています。パスワードを外して保存し直してから選んでください。")
TOO_MANY = _l("ファイルの中身が多すぎます（%(count)s 個）。Word・Excel で保存し直したファイルを選んでください。")
TOO_LARGE = _l(
    "ファイルを展開すると大きくなりすぎます（%(size)s を超えます）。"
    "中身を確かめ、Word・Excel で保存し直したファイルを選んでください。"
)
SUSPICIOUS = _l(
    "ファイルの圧縮のされ方が異常です（展開すると元の %(ratio)s 倍を超えます）。このファイルは読み込みません。"
    "Word・Excel で保存し直したファイルを選んでください。"
)


class ZipRefused(TranslatedError):
    """An upload that is not a ZIP archive we dare to open; str() says why, in Japanese."""


def check_zip(data: bytes) -> None:
    """Refuse an archive that is broken, ZIP64, encrypted, has too many members, or unpacks too large or too well."""
    if data[:8] == OLE2_MAGIC:
        raise ZipRefused(OLD_OFFICE)
    _check_directory_end(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            declared = sum(m.file_size for m in members)
            for member in members:
                _check_declared(member)
            if declared > MAX_TOTAL_BYTES:
                raise ZipRefused(TOO_LARGE, size=_mb(MAX_TOTAL_BYTES))
            total = 0
            for member in members:
                total += _inflate(archive, member, MAX_TOTAL_BYTES - total)
    except ZipRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError) as exc:
        raise ZipRefused(BROKEN) from exc
    except Exception as exc:  # noqa: BLE001  zlib and struct errors from a damaged archive
        raise ZipRefused(BROKEN) from exc


def _check_directory_end(data: bytes) -> None:
    """Read the member count from the end-of-directory record before zipfile builds one object per member."""
    at = data.rfind(_EOCD, max(0, len(data) - _EOCD_SIZE - 0xFFFF))
    if at < 0 or len(data) < at + _EOCD_SIZE:
        raise ZipRefused(BROKEN)
    (_sig, _disk, _cd_disk, _here, entries, _cd_size, _cd_offset, _comment) = struct.unpack(
        "<4s4H2LH", data[at : at + _EOCD_SIZE]
    )
    if entries == 0xFFFF or data.rfind(_ZIP64_LOCATOR, max(0, at - 20), at) >= 0:
        raise ZipRefused(BROKEN)  # ZIP64: never needed by an upload of this size
    if entries > MAX_MEMBERS:
        raise ZipRefused(TOO_MANY, count=f"{entries:,}")


def _check_declared(member: zipfile.ZipInfo) -> None:
    """The sizes the directory declares (zipfile never inflates a member beyond its declared size)."""
    if member.flag_bits & 0x1:
        raise ZipRefused(ENCRYPTED)
    if member.file_size > MAX_MEMBER_BYTES:
        raise ZipRefused(TOO_LARGE, size=_mb(MAX_MEMBER_BYTES))
    if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
        raise ZipRefused(SUSPICIOUS, ratio=MAX_RATIO)


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> int:
    """Unpack one member in chunks, counting, so even a lying directory costs at most one chunk of memory."""
    size = 0
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > MAX_MEMBER_BYTES or size > budget:
                raise ZipRefused(TOO_LARGE, size=_mb(min(MAX_MEMBER_BYTES, MAX_TOTAL_BYTES)))
            if size > RATIO_FLOOR and size > MAX_RATIO * max(member.compress_size, 1):
                raise ZipRefused(SUSPICIOUS, ratio=MAX_RATIO)
    return size


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)}MB"
