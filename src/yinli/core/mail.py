"""Sending e-mail: over SMTP when `YINLI_SMTP_HOST` is set, else into `<data_dir>/mail/` as .eml files
(the embedded default: a demo or a developer reads the message there, nothing leaves the machine).

Sending is slow and can fail, so callers send after their transaction has committed and outside the
request's answer (a background task): whether a message went out must not change what a visitor sees,
or the answer's timing would tell which e-mail addresses have accounts.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from yinli.core.settings import Settings

log = logging.getLogger("yinli.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


def build(settings: Settings, mail: Mail, *, cte: str = "base64") -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="yinli.invalid")
    message.set_content(mail.text, cte=cte)
    return message


def send(settings: Settings, mail: Mail) -> Path | None:
    """Send one message; returns the file it was written to when there is no SMTP server. Logs, never
    raises: the caller has already answered the visitor."""
    try:
        if settings.smtp_host is None:
            message = build(settings, mail, cte="8bit")  # a file for people to read: the text as it is
            folder = Path(settings.data_dir) / "mail"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{message['Message-ID'].strip('<>').split('@')[0]}.eml"
            path.write_bytes(message.as_bytes())
            log.info("mail to %s written to %s (no YINLI_SMTP_HOST)", mail.to, path)
            return path
        message = build(settings, mail)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
        log.info("mail to %s sent through %s:%s", mail.to, settings.smtp_host, settings.smtp_port)
    except (OSError, smtplib.SMTPException):
        log.exception("mail to %s could not be sent", mail.to)
    return None
