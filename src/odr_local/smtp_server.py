"""The local stack's SMTP relay: a real SMTP server (aiosmtpd, its asyncio loop in a thread of its own) where the
e-mail of a stack run with ``EmailChannel: smtp`` arrives, so the simulated people read it there.

It speaks TLS as a provider's relay does: STARTTLS (required before anything else) or implicit TLS, with a
self-signed certificate for 127.0.0.1 generated at start-up (``cryptography``), and a login (AUTH PLAIN or LOGIN,
only over TLS). The functions' client checks the certificate against the trust store, as in AWS: the stack
points ``SSL_CERT_FILE`` at a bundle of the usual CAs (certifi's) plus this certificate (:meth:`trust_bundle`).

Faults on demand, one per transaction in the order given (``server.script``): ``421`` (MAIL refused for now),
``451`` (DATA refused for now), ``drop`` (the connection closed at DATA, nothing kept), ``550`` (the mailbox
refused for good, at RCPT), ``554`` (the message refused for good, at DATA), ``auth`` (the login refused, 535).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import socket
import ssl
import tempfile
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, Literal

import certifi
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# aiosmtpd sets its own deprecated Session.login_data after every login, and warns about it each time.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated", category=DeprecationWarning)
logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's per-command log (at DEBUG it shows the login)

Fault = Literal["421", "451", "drop", "550", "554", "auth"]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    to: str
    subject: str
    body: str
    message_id: str


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (and its key), valid for a year from the real now."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odr-local SMTP relay")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=3650))  # the stack's clock is simulated: any year must do
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.server.take("421"):
            return "421 4.3.2 Service not available, try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.server.take("550"):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        if self.server.take("drop"):
            smtp.transport.close()
            return "451 4.3.0 Connection dropped"  # never read: the connection is gone
        if self.server.take("451"):
            return "451 4.3.0 Local error in processing, try again later"
        if self.server.take("554"):
            return "554 5.6.0 Message refused"
        self.server.keep(envelope.rcpt_tos, envelope.content)
        return "250 Message accepted for delivery"


class _ImplicitTls(SMTP):
    """aiosmtpd knows TLS only when it came by STARTTLS; on an implicit-TLS port every byte is encrypted, so the
    login may go at once (asked for with ``auth_require_tls=False`` it would warn that it is not)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._auth_require_tls = False


class _ImplicitTlsController(Controller):
    def factory(self) -> SMTP:
        return _ImplicitTls(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    def __init__(self, tls: Literal["starttls", "implicit"] = "starttls") -> None:
        self.tls = tls
        self.username = "odr-local"
        self.password = secrets.token_urlsafe(24)  # generated: a test can look for it in every log
        self.received: list[Received] = []
        self.script: list[Fault] = []
        self.faults: dict[str, int] = {}  # injected, by kind
        self.logins = 0
        self._lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix="odr-smtp-")
        self.cert_path, key_path = _certificate(Path(self._dir.name))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, key_path)
        self.port = _free_port()
        if not hasattr(SMTP(None), "_auth_require_tls"):
            raise RuntimeError("aiosmtpd: SMTP._auth_require_tls is gone; adapt _ImplicitTls")
        tls_kwargs: dict[str, Any] = (
            {"ssl_context": context} if tls == "implicit" else {"tls_context": context, "require_starttls": True}
        )
        kind = _ImplicitTlsController if tls == "implicit" else Controller
        self.controller = kind(
            _Handler(self),
            hostname=HOST,
            port=self.port,
            authenticator=self._authenticate,
            auth_required=True,
            **tls_kwargs,
        )

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self._dir.cleanup()

    def trust_bundle(self) -> Path:
        """The usual CAs (certifi's) and this server's certificate, for ``SSL_CERT_FILE``."""
        bundle = Path(self._dir.name) / "ca-bundle.pem"
        bundle.write_text(Path(certifi.where()).read_text() + "\n" + self.cert_path.read_text())
        return bundle

    def login_json(self) -> str:
        """The secret's value: the relay's login as the functions read it from Secrets Manager."""
        return json.dumps({"username": self.username, "password": self.password})

    # -- what the handler needs -------------------------------------------------------------------------------

    def take(self, fault: Fault) -> bool:
        """The next scripted fault is ``fault``: use it up."""
        with self._lock:
            if self.script and self.script[0] == fault:
                self.script.pop(0)
                self.faults[fault] = self.faults.get(fault, 0) + 1
                return True
            return False

    def keep(self, recipients: list[str], content: bytes) -> None:
        parsed = message_from_bytes(content, policy=default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(("plain",))
        body = str(part.get_content()) if part is not None else ""
        with self._lock:
            for to in recipients:
                self.received.append(Received(to, str(parsed["Subject"]), body, str(parsed["Message-ID"])))

    def _authenticate(self, smtp: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
        if getattr(session, "odr_refused", False) or self.take("auth"):
            session.odr_refused = True  # every mechanism the client tries next on this connection fails too
            return AuthResult(success=False, handled=False)
        ok = (
            isinstance(auth, LoginPassword)
            and auth.login.decode() == self.username
            and secrets.compare_digest(auth.password.decode(), self.password)
        )
        if ok:
            with self._lock:
                self.logins += 1
        return AuthResult(success=ok, handled=False)
