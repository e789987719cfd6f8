"""The e-mail of a notice (Japanese plain text plus HTML, built with the standard library's email package) and
its sending by SMTP (smtplib), with the settings Flask-Mail uses.

The standard library is enough here: EmailMessage encodes Japanese subjects (RFC 2047) and bodies (UTF-8) by
itself, and smtplib gives the server's reply codes we need to tell a temporary failure (4xx, a refused
connection) from a permanent one (5xx: a bad address). No extra dependency, no hand-written MIME.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from markupsafe import Markup, escape

DEFAULTS = {
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "consult@localhost",
    "MAIL_TIMEOUT": 30,
    "BASE_URL": "http://localhost:5000",
}


def settings(config) -> dict:
    """The mail settings from the app's config (also CONSULT_MAIL_PORT=8025 etc. from the environment)."""
    found = {key: config.get(key, default) for key, default in DEFAULTS.items()}
    found["MAIL_PORT"] = int(found["MAIL_PORT"])
    found["MAIL_TIMEOUT"] = float(found["MAIL_TIMEOUT"])
    for key in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
        value = found[key]
        found[key] = value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)
    for key in ("MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "MAIL_SERVER"):
        if found[key] is not None:
            found[key] = str(found[key])
    found["BASE_URL"] = str(found["BASE_URL"]).rstrip("/")
    return found


@dataclass(frozen=True)
class Outgoing:
    """What the runner claimed: enough to build one e-mail."""

    id: int
    kind: str
    address: str
    subject: str
    body: str
    link: str
    unsubscribe_url: str
    kind_label: str


def build_message(item: Outgoing, config: dict, now) -> EmailMessage:
    """Plain text and HTML alternatives, a link to the page, an unsubscribe link for this kind."""
    page = config["BASE_URL"] + item.link if item.link else config["BASE_URL"]
    footer = (
        f"\n\n開く: {page}\n\n"
        f"「{item.kind_label}」のお知らせをメールで受け取らない（受信箱には残ります）:\n{item.unsubscribe_url}\n"
    )
    message = EmailMessage()
    message["Subject"] = item.subject
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = item.address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=f"notice{item.id}", domain=_domain(config["MAIL_DEFAULT_SENDER"]))
    message["List-Unsubscribe"] = f"<{item.unsubscribe_url}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(item.body + footer)
    paragraphs = Markup("").join(
        Markup("<p>{}</p>\n").format(Markup("<br>").join(escape(line) for line in part.split("\n")))
        for part in item.body.split("\n\n")
    )
    html = Markup(
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>{subject}</title></head>'
        '<body style="font-family: sans-serif; line-height: 1.6">\n{paragraphs}'
        '<p><a href="{page}">ページを開く</a></p>\n'
        '<hr><p style="font-size: small; color: #555"><a href="{unsubscribe}">「{label}」のお知らせをメールで'
        "受け取らない</a>（受信箱には残ります）</p></body></html>"
    ).format(
        subject=item.subject, paragraphs=paragraphs, page=page, unsubscribe=item.unsubscribe_url, label=item.kind_label
    )
    message.add_alternative(str(html), subtype="html")
    return message


def _domain(sender: str) -> str:
    try:
        return Address(addr_spec=sender.split("<")[-1].rstrip(">").strip()).domain or "localhost"
    except Exception:  # noqa: BLE001  (a display name we cannot parse: any domain will do for a Message-ID)
        return "localhost"


class TemporaryFailure(Exception):
    """Try again later: the server is down, busy, or answered 4xx."""


class PermanentFailure(Exception):
    """Never try again: the server refused the address or the message (5xx)."""


class Connection:
    """One SMTP session for a batch of messages; opened on first use."""

    def __init__(self, config: dict):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c["MAIL_USE_SSL"]:
                smtp = smtplib.SMTP_SSL(
                    c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"], context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"])
                if c["MAIL_USE_TLS"]:
                    smtp.starttls(context=ssl.create_default_context())
            if c["MAIL_USERNAME"]:
                smtp.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(f"SMTP認証に失敗しました: {exc.smtp_code} {exc.smtp_error!r}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"SMTPサーバーに接続できません: {exc}") from exc
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            self.smtp = self._open()
        try:
            refused = self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            detail = "; ".join(f"{addr}: {code} {text!r}" for addr, (code, text) in exc.recipients.items())
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(detail) from exc
            raise TemporaryFailure(detail) from exc
        except smtplib.SMTPResponseException as exc:
            detail = f"{exc.smtp_code} {exc.smtp_error!r}"
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPSenderRefused):
                raise PermanentFailure(detail) from exc
            self.close()
            raise TemporaryFailure(detail) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(str(exc) or type(exc).__name__) from exc
        if refused:
            raise PermanentFailure("; ".join(f"{addr}: {code}" for addr, (code, _t) in refused.items()))

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.smtp = None
