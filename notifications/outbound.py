"""Calls to other people's servers (push services, later meter providers) that cannot be turned
against us.

An address someone gave us (a push endpoint, a provider URL) must be https to a host whose every
address is public: no loopback, private, link-local (169.254.169.254, the cloud metadata
service), reserved or multicast ranges, however the address is spelled (``2130706433``,
``0x7f.1``, ``::ffff:127.0.0.1``). ``check_url`` says so before a request, and the connection
itself checks the address it really reached, so a name that resolves differently the second
time (DNS rebinding) gets nowhere. Redirects are never followed, every call has a (connect,
read) timeout of at most ``MAX_TIMEOUT`` seconds and a deadline for the answer's body, and an
answer larger than its cap is dropped unread.

``OUTBOUND_ALLOW_PRIVATE`` (tests only) allows plain http and private addresses.
"""

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Collection
from urllib.parse import SplitResult, urljoin, urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError, ReadTimeoutError

from i18n import _l

#: No outbound call waits longer than this for a connection or an answer (SECURITY.md row 19).
MAX_TIMEOUT = 10.0
#: Bytes of an answer read before giving up on it; push services answer in a few hundred.
MAX_BODY = 64 * 1024
MAX_URL_LENGTH = 2048
#: Redirects ``request_following`` follows before giving up.
MAX_REDIRECTS = 3
#: 307 and 308 repeat the request as it was; the others make it a GET without a body.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

#: Prefixes that carry an IPv4 address inside an IPv6 one (NAT64); ``ipv4_mapped`` and
#: ``sixtofour`` are handled by ipaddress itself.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class OutboundError(Exception):
    """An outbound call that did not happen or whose answer was unusable; ``str()`` is safe to
    keep (it never holds the URL, which may be a secret such as a push endpoint)."""


class Refused(OutboundError):
    """The URL or the address it led to is not one we call; ``message`` is for people."""

    def __init__(self, reason: str, message):
        super().__init__(reason)
        self.reason = reason
        self.message = message


class TooLarge(OutboundError):
    """The answer was longer than the cap."""


class TooSlow(OutboundError):
    """The answer kept trickling in past the deadline."""


MESSAGES = {
    "scheme": _l("Use an https:// address."),
    "form": _l("Not a valid web address."),
    "credentials": _l("The address must not contain a user name or password."),
    "unresolvable": _l("This address's server cannot be found."),
    "private": _l("This address points to a private or local network, which is not allowed."),
    "host": _l("This address's server is not one we may call."),
    "redirects": _l("This address redirects too many times."),
}


def private_allowed() -> bool:
    """Whether this app may call http and private addresses (tests with local fake servers)."""
    return bool(current_app.config.get("OUTBOUND_ALLOW_PRIVATE", False))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    for network in _NAT64:
        if address in network:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(text: str) -> bool:
    """Whether an IP address (as a socket reports it) is a public unicast one."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            address = inner
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the C library also reads ``2130706433``, ``0x7f.1``)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _parts(url: str, allow_private: bool) -> SplitResult:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise Refused("form", MESSAGES["form"])
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise Refused("form", MESSAGES["form"])
    parts = urlsplit(url)
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme.lower() not in schemes:
        raise Refused("scheme", MESSAGES["scheme"])
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise Refused("credentials", MESSAGES["credentials"])
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
    except ValueError:
        raise Refused("form", MESSAGES["form"]) from None
    if not parts.hostname:
        raise Refused("form", MESSAGES["form"])
    return parts


def check_url(url: str, *, allow_private: bool | None = None) -> str:
    """Refuse (``Refused``) a URL we must not call; returns it unchanged otherwise.

    ``allow_private`` defaults to the app's OUTBOUND_ALLOW_PRIVATE.
    """
    if allow_private is None:
        allow_private = private_allowed()
    parts = _parts(url, allow_private)
    if allow_private:
        return url
    host = parts.hostname
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise Refused("unresolvable", MESSAGES["unresolvable"]) from None
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise Refused("private", MESSAGES["private"])
    return url


# --- the connection checks the address it actually reached ---------------------------------


def _peer_checked(base: type[HTTPConnection]) -> type[HTTPConnection]:
    class PeerChecked(base):
        def _new_conn(self):
            sock = super()._new_conn()
            try:
                peer = sock.getpeername()[0]
            except OSError:
                peer = ""
            if not is_public_address(peer):
                sock.close()
                raise Refused("private", MESSAGES["private"])
            return sock

    PeerChecked.__name__ = f"PeerChecked{base.__name__}"
    return PeerChecked


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _peer_checked(HTTPConnection)


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _peer_checked(HTTPSConnection)


class _PeerCheckingAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


class OutboundSession(requests.Session):
    """A requests session for calls to addresses we were given; use one per batch of calls.

    Each request checks its URL first, never follows a redirect (a 3xx is answered as it is),
    waits at most ``timeout`` seconds to connect and for the answer's headers, then at most
    ``timeout`` for a body of at most ``max_body`` bytes. Settings from the environment
    (proxies, .netrc) are ignored.
    """

    def __init__(
        self, *, allow_private: bool = False, timeout: float = MAX_TIMEOUT, max_body: int = MAX_BODY
    ):
        super().__init__()
        self.allow_private = allow_private
        self.timeout = min(timeout, MAX_TIMEOUT)
        self.max_body = max_body
        self.trust_env = False
        if not allow_private:
            adapter = _PeerCheckingAdapter()
            self.mount("https://", adapter)
            self.mount("http://", adapter)

    def request(self, method, url, *args, **kwargs):
        check_url(url, allow_private=self.allow_private)
        asked = kwargs.pop("timeout", None)
        if isinstance(asked, int | float) and asked > 0:
            limit = min(asked, self.timeout)
        else:
            limit = self.timeout
        kwargs.update(allow_redirects=False, stream=True, timeout=(limit, limit))
        response = super().request(method, url, *args, **kwargs)
        try:
            # The body, too, must arrive within the limit once the headers are in.
            response._content = self._read_capped(response, time.monotonic() + limit)
        finally:
            response.close()
        return response

    def get_redirect_target(self, response):
        # Never follow, and never read a redirect's body unbounded to prepare following it.
        return None

    def _read_capped(self, response: requests.Response, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise TooLarge("answer too large")
        # A peer sending a byte now and then never trips the read timeout: at the deadline
        # the socket is shut down from a timer, which ends a read waiting for more.
        late = threading.Event()

        def cut_off():
            late.set()
            with contextlib.suppress(Exception):
                response.raw.shutdown()

        timer = threading.Timer(max(deadline - time.monotonic(), 0.0), cut_off)
        timer.daemon = True
        timer.start()
        body = bytearray()
        try:
            while True:
                try:
                    chunk = response.raw.read1(8192, decode_content=True)
                except (HTTPError, OSError) as error:
                    if late.is_set():
                        raise TooSlow("answer took too long") from None
                    if isinstance(error, ReadTimeoutError | TimeoutError):
                        raise requests.Timeout("no answer in time") from None
                    raise requests.ConnectionError("answer interrupted") from None
                if late.is_set():
                    raise TooSlow("answer took too long")
                if not chunk:
                    return bytes(body)
                body += chunk
                if len(body) > self.max_body:
                    raise TooLarge("answer too large")
        finally:
            timer.cancel()


def session_for(app=None, *, timeout_name: str = "PUSH_TIMEOUT") -> OutboundSession:
    """An OutboundSession configured from the app (``current_app`` if not given)."""
    config = (app or current_app).config
    return OutboundSession(
        allow_private=bool(config.get("OUTBOUND_ALLOW_PRIVATE", False)),
        timeout=min(float(config.get(timeout_name) or MAX_TIMEOUT), MAX_TIMEOUT),
    )


def _host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def _origin(url: str) -> tuple | None:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), _host_of(url), parts.port
    except ValueError:
        return None  # refused by the check of the next hop


def request_following(
    session: OutboundSession,
    method: str,
    url: str,
    *,
    hosts: Collection[str] | None = None,
    max_redirects: int = MAX_REDIRECTS,
    **kwargs,
) -> requests.Response:
    """``session.request``, following at most ``max_redirects`` redirects itself: every hop is
    checked as the first one is (the session's address checks and, with ``hosts``, a host on
    that list; ``Refused`` otherwise, before anything is sent to it).

    A 301, 302 or 303 turns the request into a GET without its body, as browsers do; 307 and
    308 repeat it. The Authorization header goes only to the scheme, host and port it was
    meant for. More redirects than allowed: ``Refused("redirects")``.
    """
    allowed = {host.rstrip(".").lower() for host in hosts} if hosts is not None else None
    for hop in range(max_redirects + 1):
        if allowed is not None and _host_of(url) not in allowed:
            raise Refused("host", MESSAGES["host"])
        response = session.request(method, url, **kwargs)
        location = response.headers.get("Location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return response
        if hop == max_redirects:
            break
        target = urljoin(url, location)
        # The query of a redirect's target is its own: the original parameters stay behind.
        kwargs.pop("params", None)
        if response.status_code in (301, 302, 303) and method.upper() != "HEAD":
            method = "GET"
            for body in ("data", "json", "files"):
                kwargs.pop(body, None)
        if _origin(target) is None or _origin(target) != _origin(url):
            kept = {
                name: value
                for name, value in (kwargs.get("headers") or {}).items()
                if name.lower() != "authorization"
            }
            kwargs["headers"] = kept
        url = target
    raise Refused("redirects", MESSAGES["redirects"])
