"""A real SMTP server (aiosmtpd) on loopback for the email tests, and kinds of their own."""

import email
import email.policy
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jinja2 import ChoiceLoader, DictLoader
from py_vapid import Vapid

from notifications import devices, kinds
from tests.conftest import TEST_SMTP_SERVERS
from tests.notifications.pushes import PROJECT

HOST = "127.0.0.1"

#: A low-priority kind (may wait for a digest), with templates in catalog words, so each
#: language's mail differs.
NEWS = "test.news"
TEMPLATES = {
    f"notifications/{NEWS}.subject.txt": '{{ _("Sign in") }}: {{ title }}',
    f"notifications/{NEWS}.txt": '{{ _("Sign out") }}: {{ title }}\n{{ when(moment) }}\n',
    f"notifications/{NEWS}.html": '<p>{{ _("Sign out") }}: <b>{{ title }}</b></p>',
}


@pytest.fixture
def mail_kinds(app, monkeypatch):
    """The NEWS kind, registered once, with its templates in front of the app's."""
    if NEWS not in kinds.KINDS:
        kinds.register(kinds.Kind(NEWS, "Test news", kinds.Priority.LOW))
    loader = ChoiceLoader([DictLoader(TEMPLATES), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Mailbox:
    """The server's handler: keeps what arrived (parsed) and answers as the test says."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        #: The bytes as they came over the wire, for what parsing would normalise away.
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        #: SMTP replies such as "550 5.1.1 No such user" to give, one per message, before
        #: accepting again.
        self.rcpt_replies: list[str] = []
        self.data_replies: list[str] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None
        self.port = 0
        self.running = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.raw.append(envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if auth_data.login == b"mailer" and auth_data.password == b"s3cret":
            self.logins.append(auth_data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def stop(self) -> None:
        """The server goes down (its port stays allowed, so connecting is simply refused)."""
        if self.running:
            self.controller.stop()
            self.running = False

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_factory(app, monkeypatch) -> Iterator:
    """Start an SMTP server on a free loopback port and point the app's mail settings at it."""
    started: list[Mailbox] = []

    def start(security: str = "none", **options) -> Mailbox:
        mailbox = Mailbox()
        mailbox.port = free_port()
        mailbox.controller = Controller(mailbox, hostname=HOST, port=mailbox.port, **options)
        mailbox.controller.start()
        mailbox.running = True
        started.append(mailbox)
        TEST_SMTP_SERVERS.add((HOST, mailbox.port))
        settings = {
            "MAIL_SINK": "smtp",
            "SMTP_HOST": HOST,
            "SMTP_PORT": mailbox.port,
            "SMTP_SECURITY": security,
            "SMTP_USERNAME": None,
            "SMTP_PASSWORD": None,
            "SMTP_TIMEOUT": 5,
            "MAIL_FROM": "Living Lab <no-reply@livinglab.test>",
            "PUBLIC_URL": "https://lab.example.org",
        }
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
        return mailbox

    yield start
    for mailbox in started:
        mailbox.stop()
        TEST_SMTP_SERVERS.discard((HOST, mailbox.port))


@pytest.fixture
def smtp_server(smtp_factory) -> Mailbox:
    """A plain SMTP server on loopback receiving the app's email."""
    return smtp_factory()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Living Lab test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


# --- push services played by pytest-httpserver ---------------------------------------------


@pytest.fixture(scope="module")
def vapid_pem():
    key = Vapid()
    key.generate_keys()
    return key.private_pem().decode()


@pytest.fixture(scope="module")
def service_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def services(app, httpserver, monkeypatch, tmp_path, vapid_pem, service_key):
    """Web Push and FCM configured against the local fake server (a test-only allowance)."""
    credentials = tmp_path / "fcm-service-account.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "key-1",
                "private_key": service_key,
                "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": httpserver.url_for("/token"),
            }
        )
    )
    settings = {
        "VAPID_PRIVATE_KEY": vapid_pem,
        "VAPID_PUBLIC_KEY": None,
        "VAPID_SUBJECT": "mailto:push@example.org",
        "FCM_PROJECT_ID": PROJECT,
        "FCM_CREDENTIALS_FILE": str(credentials),
        "FCM_ENDPOINT": httpserver.url_for("/").rstrip("/"),
        "PUSH_TIMEOUT": 1,
        "OUTBOUND_ALLOW_PRIVATE": True,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    with app.app_context():
        public_key = devices.application_server_key(app.config)
    return SimpleNamespace(server=httpserver, public_key=public_key)
