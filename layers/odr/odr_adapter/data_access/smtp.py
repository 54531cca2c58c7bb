"""E-mail through an SMTP relay over TLS, for partitions without SES (the AWS China regions).

The client is Python's own ``smtplib`` (standard library: nothing to add to the layer). TLS is STARTTLS on a
submission port (587) or implicit TLS (465), the server's certificate checked against the system's trust store
(``ssl.create_default_context``). The login is kept in Secrets Manager as JSON ``{"username", "password"}``, read
through the same five-minute cache as every other secret, and read again when the server refuses it (535: the
password was rotated).

A reply maps onto :class:`DeliveryFailed` as SES's errors do: a 4xx reply, a dropped connection or a timeout may
pass and is retried; a 5xx reply is final, and the message goes to the other channel (SMS). A refused login is
retried once the credentials are read again. What is recorded is the reply code or the kind of failure, never
the server's text, and the credentials are never logged: ``smtplib`` prints nothing at debug level 0.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal

from aws_lambda_powertools.utilities import parameters

from odr_adapter.data_access.secrets import MAX_AGE_SECONDS
from odr_adapter.ports import DeliveryFailed

TlsMode = Literal["starttls", "implicit"]
AUTH_REFUSED = 535


class SmtpEmail:
    def __init__(
        self,
        host: str,
        port: int,
        tls: TlsMode,
        secret_id: str,
        sender: str,
        timeout: float = 10.0,
        context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.secret_id = secret_id
        self.sender = sender
        self.timeout = timeout
        self.context = context
        self._fresh_login = False  # read the credentials past the cache on the next send

    def _login(self) -> tuple[str, str]:
        value: Any = parameters.get_secret(
            self.secret_id, max_age=MAX_AGE_SECONDS, transform="json", force_fetch=self._fresh_login
        )
        self._fresh_login = False
        if not isinstance(value, dict) or not value.get("username") or not value.get("password"):
            raise DeliveryFailed("SMTP credentials unusable", permanent=True)  # names no value
        return str(value["username"]), str(value["password"])

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body, charset="utf-8")
        return message

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "implicit":
            return smtplib.SMTP_SSL(
                self.host, self.port, local_hostname="odr-adapter", timeout=self.timeout, context=self.context()
            )
        smtp = smtplib.SMTP(self.host, self.port, local_hostname="odr-adapter", timeout=self.timeout)
        try:
            smtp.starttls(context=self.context())  # raises when the server offers no STARTTLS: never in clear
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _deliver(self, message: EmailMessage | None, username: str, password: str) -> None:
        smtp = self._connect()
        try:
            smtp.login(username, password)
            if message is not None:
                smtp.send_message(message)
        finally:
            try:
                smtp.quit()  # the message is taken already: a QUIT that fails changes nothing
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def send(self, to: str, subject: str, body: str) -> str:
        message = self._message(to, subject, body)
        self._transact(message)
        return str(message["Message-ID"])

    def check_login(self) -> None:
        """EHLO, TLS, AUTH with the login as stored now, then QUIT: nothing is sent (``odr doctor``). Raises
        :class:`DeliveryFailed` as :meth:`send` does."""
        self._fresh_login = True
        self._transact(None)

    def _transact(self, message: EmailMessage | None) -> None:
        username, password = self._login()
        try:
            self._deliver(message, username, password)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise DeliveryFailed(f"SMTP {code}", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:  # connect, HELO, AUTH, MAIL, DATA: the server's reply
            if exc.smtp_code == AUTH_REFUSED:
                self._fresh_login = True
                raise DeliveryFailed(f"SMTP {exc.smtp_code}", permanent=False) from None
            raise DeliveryFailed(f"SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryFailed("SMTP STARTTLS not offered", permanent=True) from None
        except ssl.SSLCertVerificationError:
            raise DeliveryFailed("SMTP certificate not trusted", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:  # dropped connection, timeout, refused connection, TLS
            raise DeliveryFailed(type(exc).__name__, permanent=False) from None
