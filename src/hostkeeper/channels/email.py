"""`type: email`: one plain-text mail per notification over SMTP (smtplib).

STARTTLS and login are optional; the password is read from `password_file` at each
delivery, so rotating it needs no reload. SMTP 4xx replies and connection problems are
transient, 5xx replies and authentication failures permanent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from hostkeeper.channels.base import DeliveryError, Message, permanent, transient
from hostkeeper.channels.deadline import AttemptDeadline
from hostkeeper.config.alerts import EmailChannel

TYPE = "email"
CONFIG = EmailChannel


def build(channel: EmailChannel, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.to)
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.at)
    mail["Message-ID"] = make_msgid(domain=message.host or None)
    mail["X-Hostkeeper-Kind"] = message.kind
    mail["X-Hostkeeper-Rule"] = message.rule
    if message.is_test:
        mail["X-Hostkeeper-Test"] = "yes"
    mail.set_content(message.body())
    return mail


def send(channel: EmailChannel, message: Message) -> str:
    mail = build(channel, message)
    timeout = channel.timeout.total_seconds()
    with AttemptDeadline(timeout) as deadline:
        try:
            return _send(channel, mail, timeout, deadline)
        except DeliveryError:
            if deadline.expired:
                where = f"{channel.smtp_host}:{channel.smtp_port}"
                raise transient(f"SMTP {where}: no complete exchange within {timeout:g}s") from None
            raise


class _WatchedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose socket the attempt's deadline shuts down when it passes."""

    def __init__(self, deadline: AttemptDeadline, timeout: float) -> None:
        self._deadline = deadline
        super().__init__(timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self._deadline.watch(sock)
        return sock  # type: ignore[no-any-return]


def _send(
    channel: EmailChannel, mail: EmailMessage, timeout: float, deadline: AttemptDeadline
) -> str:
    try:
        with _WatchedSMTP(deadline, timeout) as smtp:
            code, greeting = smtp.connect(channel.smtp_host, channel.smtp_port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            if channel.starttls:
                smtp.starttls(context=ssl.create_default_context())
                if smtp.sock is not None:  # the TLS socket replaced the plain one
                    deadline.watch(smtp.sock)
            if channel.username:
                smtp.login(channel.username, _password(channel))
            refused = smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as error:
        raise permanent(
            f"SMTP login refused: {error.smtp_code} {_text(error.smtp_error)}"
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        message_text = f"every recipient refused: {_refusals(error.recipients)}"
        raise DeliveryError(message_text, transient=all(400 <= c < 500 for c in codes)) from None
    except smtplib.SMTPResponseException as error:
        text = f"SMTP {error.smtp_code} {_text(error.smtp_error)}"
        raise DeliveryError(text, transient=400 <= error.smtp_code < 500) from None
    except smtplib.SMTPNotSupportedError as error:
        raise permanent(f"SMTP server does not support it: {error}") from None
    except ssl.SSLError as error:
        raise permanent(f"TLS with {channel.smtp_host} failed: {error}") from None
    except (smtplib.SMTPException, OSError) as error:
        where = f"{channel.smtp_host}:{channel.smtp_port}"
        raise transient(f"SMTP {where}: {error or type(error).__name__}") from None
    if refused:
        return f"accepted for {len(channel.to) - len(refused)}; refused {_refusals(refused)}"
    return f"accepted by {channel.smtp_host}:{channel.smtp_port} for {len(channel.to)}"


def _password(channel: EmailChannel) -> str:
    if channel.password_file is None:
        raise permanent("username is set but password_file is not")
    try:
        return Path(channel.password_file).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise permanent(f"cannot read password_file: {error.strerror}") from None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{to} ({code} {_text(text)})" for to, (code, text) in recipients.items())
