"""E-mail digests over SMTP (standard library ``smtplib``).

STARTTLS before authenticating (``starttls: true``, the default; port 587), or implicit
TLS (``tls: true``, port 465), or plain for a local relay. The password comes from the
environment variable named by ``password_env``, never from the file in git, and is never
printed. ``ca_file`` trusts an internal relay's own certificate authority.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from drillbook import clock
from drillbook.errors import AdapterError, ConfigError
from drillbook.notify.digest import Digest, DigestNotifier, Recipient
from drillbook.notify.settings import EmailSettings, NotifySettings

TIMEOUT_SECONDS = 20.0


def _line(text: str) -> str:
    """One header line: names and subjects come from drillbook.yaml and finding text, and a
    line break in a header would let that text add headers of its own."""
    return " ".join(text.split())


class EmailNotifier(DigestNotifier):
    name = "email"

    def __init__(self, settings: EmailSettings, *, password: str | None = None) -> None:
        self.settings = settings
        self.password = password
        if settings.username and password is None:
            import os

            variable = settings.password_env or ""
            self.password = os.environ.get(variable) if variable else None
            if not self.password:
                raise ConfigError(
                    f"notify.email: username is set but ${variable or '(password_env)'} "
                    "holds no password"
                )

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> DigestNotifier:
        if settings.email is None:
            raise ConfigError("notify.email is not configured in drillbook.yaml")
        return cls(settings.email)

    def can_reach(self, recipient: Recipient) -> bool:
        return recipient.email is not None

    def message(self, digest: Digest) -> EmailMessage:
        if digest.recipient.email is None:
            raise ConfigError(f"{digest.recipient.key} has no e-mail address in drillbook.yaml")
        message = EmailMessage()
        message["From"] = formataddr((_line(self.settings.sender_name), self.settings.sender))
        message["To"] = formataddr((_line(digest.recipient.name), _line(digest.recipient.email)))
        message["Subject"] = _line(digest.subject)
        message["Date"] = clock.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
        message["Message-ID"] = make_msgid(domain=self.settings.sender.rsplit("@", 1)[-1])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(digest.text())
        return message

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def send_digest(self, digest: Digest) -> None:
        s = self.settings
        call = f"SMTP {s.host}:{s.port}"
        try:
            smtp: smtplib.SMTP
            if s.tls:
                smtp = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=TIMEOUT_SECONDS, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
            with smtp:
                smtp.ehlo()
                if s.starttls and not s.tls:
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, self.password or "")
                smtp.send_message(self.message(digest))
        except smtplib.SMTPAuthenticationError:
            raise AdapterError(
                "e-mail",
                call,
                "authentication failed",
                f"notify.email.username and ${s.password_env}",
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            if self.password:
                detail = detail.replace(self.password, "***")
            raise AdapterError(
                "e-mail", call, detail, "notify.email host, port and TLS settings"
            ) from None
