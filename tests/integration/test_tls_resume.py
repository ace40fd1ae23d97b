"""CPU per TLS login (issue 17 item 2): a reconnecting client resumes its
TLS session from a session ticket (TLS 1.3 and 1.2, STARTTLS and direct
TLS) unless plucs/tls/session_tickets is off; ECDSA certificates serve
logins, an RSA and an ECDSA certificate with the same names are both
served (each client gets the one it supports), and a key that does not
match its certificate is refused with a line naming the variable."""

import os
import socket
import ssl
import subprocess

import pytest

import plucs_harness as H

HDR = ("<?xml version='1.0'?><stream:stream to='a.test' xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")


def read_until(s, marker):
    buf = b""
    while marker not in buf:
        chunk = s.recv(4096)
        assert chunk, buf
        buf += chunk
    return buf


def client_ctx(max_version=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if max_version:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def tls_stream(port, ctx, session=None, direct=False):
    """One TLS stream (STARTTLS, or TLS from the first byte with direct),
    read up to the features after TLS (which also reads a TLS 1.3 ticket).
    Returns (session_reused, session, version, peer certificate DER)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        if not direct:
            s.sendall(HDR.encode())
            assert H.NS_TLS.encode() in read_until(s, b"</stream:features>")
            s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            read_until(s, b"<proceed")
        t = ctx.wrap_socket(s, server_hostname="a.test", session=session)
        t.sendall(HDR.encode())
        read_until(t, b"</stream:features>")
        out = (t.session_reused, t.session, t.version(), t.getpeercert(binary_form=True))
        t.close()
        return out
    finally:
        s.close()


def reconnect(port, max_version=None, direct=False):
    """A first stream, then three more, each offering the newest session:
    whether all three resumed (a TLS 1.3 ticket is used once, so each
    resumption must bring a fresh one), and the versions."""
    ctx = client_ctx(max_version)
    reused1, sess, version, _ = tls_stream(port, ctx, direct=direct)
    assert not reused1
    assert sess is not None
    all_reused = True
    for _ in range(3):
        reused, newer, version2, _ = tls_stream(port, ctx, session=sess, direct=direct)
        all_reused = all_reused and reused
        if version2 == "TLSv1.3":
            # a fresh ticket came with the resumption (Python's client would
            # reuse an old one; OpenSSL's own client cache and others do not)
            assert newer is not None and newer.id != sess.id, "no fresh ticket after resumption"
        sess = newer or sess
    return all_reused, version, version2


def cert_kind(der):
    pem = ssl.DER_cert_to_PEM_cert(der)
    return subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem,
                          capture_output=True, text=True).stdout


def make_cert(tmp_path, name, kind, names=("a.test", "b.test", "localhost")):
    """A self-signed certificate with its key in one PEM. The ECDSA one is
    made the way scripts/ldap-env selfsigned (and so `make bench`) makes it."""
    path = tmp_path / name
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if kind == "ec" \
        else ["-newkey", "rsa:2048"]
    san = ",".join("DNS:" + n for n in names)
    subprocess.run(["openssl", "req", "-x509"] + newkey +
                   ["-nodes", "-keyout", str(path) + ".k", "-out", str(path) + ".c",
                    "-days", "30", "-subj", "/CN=" + names[0], "-addext", "subjectAltName=" + san],
                   check=True, capture_output=True)
    with open(path, "w") as f:
        f.write(open(str(path) + ".k").read() + open(str(path) + ".c").read())
    return path


@pytest.fixture
def direct_port():
    return H.free_port()


@pytest.mark.parametrize("max_version", [None, ssl.TLSVersion.TLSv1_2], ids=["tls13", "tls12"])
def test_reconnect_resumes_the_session(plucsd_factory, direct_port, max_version):
    d = plucsd_factory(**{"plucs/c2s/tls/port": str(direct_port)})
    reused, v1, v2 = reconnect(d.port, max_version)
    assert reused, (v1, v2)
    assert v1 == v2 == ("TLSv1.2" if max_version else "TLSv1.3")
    reused, _, _ = reconnect(direct_port, max_version, direct=True)
    assert reused
    # a resumed stream still logs in (SASL after an abbreviated handshake)
    assert H.try_login(d.port, H.jid("nora"), H.password("nora"), tls="required")


@pytest.mark.parametrize("max_version", [None, ssl.TLSVersion.TLSv1_2], ids=["tls13", "tls12"])
def test_tickets_off_means_full_handshakes(plucsd_factory, direct_port, max_version):
    d = plucsd_factory(**{"plucs/tls/session_tickets": "false",
                          "plucs/c2s/tls/port": str(direct_port)})
    ctx = client_ctx(max_version)
    reused, sess, _, _ = tls_stream(d.port, ctx)
    assert not reused
    # TLS 1.3: no ticket is sent, so the client has nothing to resume with;
    # TLS 1.2: the client's session (by id) is not found on the server.
    if sess is not None and sess.has_ticket:
        pytest.fail("a ticket was issued with plucs/tls/session_tickets=false")
    reused, _, _, _ = tls_stream(d.port, ctx, session=sess)
    assert not reused
    reused, _, _, _ = tls_stream(direct_port, ctx, session=sess, direct=True)
    assert not reused


def test_a_forged_ticket_gives_a_full_handshake(plucsd_factory):
    """A session from another server (other ticket keys) is not resumed."""
    d1 = plucsd_factory()
    d2 = plucsd_factory()
    ctx = client_ctx()
    _, sess, _, _ = tls_stream(d1.port, ctx)
    reused, _, _, _ = tls_stream(d2.port, ctx, session=sess)
    assert not reused
    assert d1.alive() and d2.alive()


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_certificate_serves_logins(plucsd_factory, tmp_path, direct_port, kind):
    cert = make_cert(tmp_path, "c.pem", kind)
    d = plucsd_factory(**{"plucs/certfile": str(cert), "plucs/tls": "required",
                          "plucs/c2s/tls/port": str(direct_port)})
    _, _, _, der = tls_stream(d.port, client_ctx())
    text = cert_kind(der)
    assert ("id-ecPublicKey" in text) == (kind == "ec"), text
    _, _, _, der = tls_stream(direct_port, client_ctx(), direct=True)
    assert ("id-ecPublicKey" in cert_kind(der)) == (kind == "ec")
    assert H.try_login(d.port, H.jid("nora"), H.password("nora"), tls="required")


def test_rsa_and_ecdsa_side_by_side(plucsd_factory, tmp_path):
    ec = make_cert(tmp_path, "ec.pem", "ec")
    rsa = make_cert(tmp_path, "rsa.pem", "rsa")
    d = plucsd_factory(**{"plucs/certfile": "%s %s" % (rsa, ec)})
    v12 = ssl.TLSVersion.TLSv1_2
    _, _, _, der = tls_stream(d.port, client_ctx(v12, "ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert "id-ecPublicKey" in cert_kind(der)
    _, _, _, der = tls_stream(d.port, client_ctx(v12, "ECDHE-RSA-AES128-GCM-SHA256"))
    assert "rsaEncryption" in cert_kind(der)
    # a client that can do both gets the cheaper one
    _, _, _, der = tls_stream(d.port, client_ctx())
    assert "id-ecPublicKey" in cert_kind(der)
    assert H.try_login(d.port, H.jid("nora"), H.password("nora"), tls="required")


def start_fails(plucsd_factory, tmp_path, certfile):
    os.makedirs(tmp_path / "d", exist_ok=True)
    reg = tmp_path / "d" / "registry.conf"
    src = open(plucsd_factory(**{}).registry_path).read()
    lines = [l for l in src.splitlines() if not l.startswith(("plucs/certfile", "plucs/tls"))]
    lines += ["plucs/certfile: %s" % certfile, "plucs/tls: required"]
    reg.write_text("\n".join(lines) + "\n")
    r = subprocess.run([os.path.join(H.BUILD, "plucsd"), "--registry", str(reg),
                        "--pidfile", str(tmp_path / "d" / "p.pid")],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1, r
    return r.stderr


@pytest.mark.parametrize("other", ["ec", "rsa"])
def test_mismatched_key_is_a_clear_error(plucsd_factory, tmp_path, other):
    ec = make_cert(tmp_path, "ec.pem", "ec")
    wrong = make_cert(tmp_path, "wrong.pem", other)
    bad = tmp_path / "bad.pem"
    bad.write_text(open(str(wrong) + ".k").read() + open(str(ec) + ".c").read())
    err = start_fails(plucsd_factory, tmp_path, bad)
    assert "plucs/certfile" in err and "bad.pem" in err and "does not match" in err, err
    # the same as X.pem with a wrong X.key beside it
    (tmp_path / "x.pem").write_text(open(str(ec) + ".c").read())
    (tmp_path / "x.key").write_text(open(str(wrong) + ".k").read())
    err = start_fails(plucsd_factory, tmp_path, tmp_path / "x.pem")
    assert "plucs/certfile" in err and "x.key" in err and "does not match" in err, err
