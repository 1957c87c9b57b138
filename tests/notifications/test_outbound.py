"""The outbound guard: only https to public addresses, no redirects, bounded time and size.

SECURITY.md rows 18 and 19. The peer is a real HTTP server (pytest-httpserver) on loopback,
which is exactly what production must refuse; tests that need to reach it say so with
``allow_private=True`` or make a name resolve to a public address first.
"""

import threading
import time

import pytest
import requests
from werkzeug import Response

from app.config import from_environment
from notifications import outbound
from notifications.outbound import OutboundSession, Refused, TooLarge, TooSlow, check_url

PUBLIC_IP = "93.184.215.14"

REFUSED = {
    "loopback": "https://127.0.0.1/push",
    "loopback, other spelling": "https://127.1/push",
    "IPv6 loopback": "https://[::1]/push",
    "cloud metadata": "https://169.254.169.254/latest/meta-data/",
    "cloud metadata on another port": "https://169.254.169.254:8443/",
    "private 10/8": "https://10.0.0.5/push",
    "private 172.16/12": "https://172.16.3.4/push",
    "private 192.168/16": "https://192.168.1.10/push",
    "carrier-grade NAT": "https://100.64.0.1/push",
    "unspecified": "https://0.0.0.0/push",
    "broadcast": "https://255.255.255.255/push",
    "multicast": "https://224.0.0.1/push",
    "decimal loopback": "https://2130706433/push",
    "hex loopback": "https://0x7f000001/push",
    "octal loopback": "https://017700000001/push",
    "decimal metadata": "https://2852039166/latest/meta-data/",
    "IPv4-mapped loopback": "https://[::ffff:127.0.0.1]/push",
    "IPv4-mapped metadata": "https://[::ffff:169.254.169.254]/",
    "NAT64 metadata": "https://[64:ff9b::a9fe:a9fe]/",
    "6to4 loopback": "https://[2002:7f00:1::]/",
    "IPv6 link-local": "https://[fe80::1]/",
    "IPv6 unique local": "https://[fd00::1]/",
    "localhost": "https://localhost/push",
    "plain http": "http://push.example.org/push",
    "plain http to a public address": f"http://{PUBLIC_IP}/push",
    "credentials": f"https://user:secret@{PUBLIC_IP}/push",
    "another scheme": "ftp://push.example.org/x",
    "javascript": "javascript:alert(1)",
    "no host": "https:///push",
    "bad port": f"https://{PUBLIC_IP}:99999/push",
    "spaces": f"https://{PUBLIC_IP}/pu sh",
    "too long": f"https://{PUBLIC_IP}/" + "a" * 3000,
}


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_addresses_we_must_not_call_are_refused(url):
    with pytest.raises(Refused) as refused:
        check_url(url, allow_private=False)
    assert str(refused.value.message)  # a message a person can read


def test_public_addresses_pass():
    assert check_url(f"https://{PUBLIC_IP}/push/abc", allow_private=False)
    assert check_url("https://[2606:4700:4700::1111]/x", allow_private=False)


def test_every_address_of_a_name_must_be_public(monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [PUBLIC_IP])
    assert check_url("https://push.example.org/abc", allow_private=False)
    # One private address among public ones is enough to refuse: a client may pick it.
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [PUBLIC_IP, "10.1.2.3"])
    with pytest.raises(Refused) as refused:
        check_url("https://push.example.org/abc", allow_private=False)
    assert refused.value.reason == "private"


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(Refused) as refused:
        check_url("https://no-such-host.invalid/push", allow_private=False)
    assert refused.value.reason == "unresolvable"


def test_tests_may_allow_http_and_loopback_but_not_other_schemes():
    assert check_url("http://127.0.0.1:5000/push", allow_private=True)
    with pytest.raises(Refused):
        check_url("file:///etc/passwd", allow_private=True)
    with pytest.raises(Refused):
        check_url("http://user:pw@127.0.0.1/", allow_private=True)


def test_production_sessions_refuse_before_connecting(httpserver):
    httpserver.expect_request("/push").respond_with_data("hello")
    with OutboundSession() as session, pytest.raises(Refused):
        session.post(httpserver.url_for("/push"), data=b"x")
    assert httpserver.log == []


def test_the_address_actually_reached_is_checked_too(httpserver, monkeypatch):
    """A name that looked public when checked but leads to loopback (DNS rebinding)."""
    httpserver.expect_request("/push").respond_with_data("hello")
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [PUBLIC_IP])
    url = f"https://localhost:{httpserver.port}/push"
    with OutboundSession() as session, pytest.raises(Refused) as refused:
        session.post(url, data=b"x")
    assert refused.value.reason == "private"
    assert httpserver.log == []


def test_redirects_are_answered_not_followed(httpserver):
    httpserver.expect_request("/push").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    httpserver.expect_request("/elsewhere").respond_with_data("followed")
    with OutboundSession(allow_private=True) as session:
        response = session.post(httpserver.url_for("/push"), data=b"x")
    assert response.status_code == 302
    assert [request.path for request, _response in httpserver.log] == ["/push"]


def test_a_stalled_peer_times_out(httpserver):
    released = threading.Event()

    def stall(_request):
        released.wait(5)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(stall)
    started = time.monotonic()
    try:
        with (
            OutboundSession(allow_private=True, timeout=1) as session,
            pytest.raises(requests.Timeout),
        ):
            session.post(httpserver.url_for("/slow"), data=b"x")
        assert time.monotonic() - started < 2
    finally:
        released.set()  # the fake server answers one request at a time


def test_a_trickling_answer_is_cut_at_the_deadline(httpserver):
    def trickle(_request):
        def chunks():
            for _ in range(30):
                time.sleep(0.1)
                yield b"."

        return Response(chunks(), status=200)

    httpserver.expect_request("/trickle").respond_with_handler(trickle)
    started = time.monotonic()
    with OutboundSession(allow_private=True, timeout=1) as session, pytest.raises(TooSlow):
        session.get(httpserver.url_for("/trickle"))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_huge_answers_are_not_read(httpserver, declared):
    big = b"x" * (outbound.MAX_BODY * 4)
    if declared:
        httpserver.expect_request("/big").respond_with_data(big)
    else:
        httpserver.expect_request("/big").respond_with_handler(
            lambda _r: Response(iter([big[i : i + 4096] for i in range(0, len(big), 4096)]))
        )
    with OutboundSession(allow_private=True) as session, pytest.raises(TooLarge):
        session.get(httpserver.url_for("/big"))


def test_answers_within_limits_are_read(httpserver):
    httpserver.expect_request("/ok").respond_with_json({"name": "m/1"})
    with OutboundSession(allow_private=True) as session:
        response = session.post(httpserver.url_for("/ok"), json={"a": 1}, timeout=300)
    assert response.json() == {"name": "m/1"}


def test_timeouts_never_exceed_ten_seconds(monkeypatch):
    assert OutboundSession(timeout=60).timeout == 10
    monkeypatch.setenv("PUSH_TIMEOUT", "60")
    assert from_environment()["PUSH_TIMEOUT"] == 10


def test_environment_proxies_are_ignored(httpserver, monkeypatch):
    """A proxy from the environment would make the address check meaningless."""
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    httpserver.expect_request("/direct").respond_with_data("ok")
    with OutboundSession(allow_private=True, timeout=2) as session:
        assert session.get(httpserver.url_for("/direct")).status_code == 200
