"""Foundation: TLS for client streams (RFC 6120 §5): STARTTLS upgrades the
same connection, TLS 1.2 or newer only, the certificate from plucs/certfile
(one PEM with key and chain, or X.pem with X.key beside it), and SNI picking
the certificate of the requested domain when several are configured."""

import os
import socket
import ssl
import subprocess

import pytest

import plucs_harness as H

HDR = ("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")


def starttls(port, domain, server_name, min_version=None, max_version=None):
    """Opens a stream to domain, upgrades it with STARTTLS and returns the
    peer certificate's subject common names and the negotiated version."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall((HDR % domain).encode())
        buf = b""
        while b"</stream:features>" not in buf:
            chunk = s.recv(4096)
            assert chunk, buf
            buf += chunk
        assert b"urn:ietf:params:xml:ns:xmpp-tls" in buf, buf
        s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        buf = b""
        while b"<proceed" not in buf:
            chunk = s.recv(4096)
            assert chunk, buf
            buf += chunk
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if min_version:
            ctx.minimum_version = min_version
        if max_version:
            ctx.maximum_version = max_version
            # let the client offer old versions at all (Debian's default
            # security level would refuse them on our side already)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        t = ctx.wrap_socket(s, server_hostname=server_name)
        der = t.getpeercert(binary_form=True)
        pem = ssl.DER_cert_to_PEM_cert(der)
        subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName"],
                                 input=pem, capture_output=True, text=True).stdout
        version = t.version()
        # the stream goes on over TLS: a new header is answered
        t.sendall((HDR % domain).encode())
        got = b""
        while b"</stream:features>" not in got:
            chunk = t.recv(4096)
            if not chunk:
                break
            got += chunk
        t.close()
        return subject, version, got
    finally:
        s.close()


def test_starttls_tls12_or_newer(plucsd):
    subject, version, got = starttls(plucsd.port, "a.test", "a.test")
    assert version in ("TLSv1.2", "TLSv1.3"), version
    assert b"<stream:stream" in got and b"mechanisms" in got, got


def test_tls11_refused(plucsd):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            starttls(plucsd.port, "a.test", "a.test", min_version=ssl.TLSVersion.TLSv1,
                     max_version=ssl.TLSVersion.TLSv1_1)
    assert plucsd.alive()


def test_sni_picks_the_domains_certificate(plucsd_factory, tmp_path):
    a = H.selfsigned(tmp_path / "a.pem", ["a.test"])
    # the second as X.pem (certificate) with X.key beside it
    both = H.selfsigned(tmp_path / "bsrc.pem", ["b.test"])
    text = open(both).read()
    key = text[text.index("-----BEGIN PRIVATE KEY-----"):text.index("-----END PRIVATE KEY-----") + 25]
    cert = text[text.index("-----BEGIN CERTIFICATE-----"):]
    with open(tmp_path / "b.pem", "w") as f:
        f.write(cert)
    with open(tmp_path / "b.key", "w") as f:
        f.write(key + "\n")
    d = plucsd_factory(**{"plucs/certfile": "%s %s" % (a, tmp_path / "b.pem")})
    subj_a, _, _ = starttls(d.port, "a.test", "a.test")
    subj_b, _, _ = starttls(d.port, "b.test", "b.test")
    subj_none, _, _ = starttls(d.port, "b.test", "unknown.example")
    assert "a.test" in subj_a and "b.test" not in subj_a, subj_a
    assert "b.test" in subj_b and "a.test" not in subj_b, subj_b
    assert "a.test" in subj_none, subj_none      # the first file is the default


def test_missing_key_is_a_clear_error(plucsd_factory, tmp_path):
    both = H.selfsigned(tmp_path / "src.pem", ["a.test"])
    text = open(both).read()
    with open(tmp_path / "nokey.pem", "w") as f:
        f.write(text[text.index("-----BEGIN CERTIFICATE-----"):])
    # plucs/tls=required cannot run without a key: plucsd refuses to start
    # with one line naming the variable and the file.
    os.makedirs(tmp_path / "d", exist_ok=True)
    reg = tmp_path / "d" / "registry.conf"
    src = open(plucsd_factory(**{}).registry_path).read()
    lines = [l for l in src.splitlines() if not l.startswith(("plucs/certfile", "plucs/tls"))]
    lines += ["plucs/certfile: %s" % (tmp_path / "nokey.pem"), "plucs/tls: required"]
    reg.write_text("\n".join(lines) + "\n")
    r = subprocess.run([os.path.join(H.BUILD, "plucsd"), "--registry", str(reg),
                        "--pidfile", str(tmp_path / "d" / "p.pid")],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1, r
    assert "plucs/certfile" in r.stderr and "nokey.pem" in r.stderr and "private key" in r.stderr, r.stderr
