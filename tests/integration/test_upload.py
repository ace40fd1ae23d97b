"""HTTP file upload (XEP-0363, urn:xmpp:http:upload:0): the upload.DOMAIN
service (disco, slots, file-too-large / resource-constraint / not-acceptable),
PUT and GET on the HTTP listener's /upload/ path (size, type and slot checks,
Range, CORS, path traversal), expiry, restarts, `plucs status` and /metrics,
and the whole path through the private Apache with slixmpp's xep_0363."""

import http.client
import io
import os
import re
import subprocess
import time
import urllib.parse
from xml.etree import ElementTree as ET

import pytest

import apache_env
import plucs_harness as H

NS = "urn:xmpp:http:upload:0"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
MAX = 200000


def upload_registry(tmp_path, **extra):
    reg = {"plucs/upload": "true", "plucs/upload/dir": str(tmp_path / "files"),
           "plucs/upload/max_size": str(MAX), "plucs/http/address": "127.0.0.1"}
    reg.update(extra)
    return reg


@pytest.fixture
def up(plucsd_factory, tmp_path):
    return plucsd_factory(**upload_registry(tmp_path))


def slix_upload(c, name, data, ctype):
    """slixmpp's xep_0363 upload_file(): slot request, PUT, the GET URL.
    Its service discovery (get_info_from_domain) fails on Python 3.11 in
    slixmpp 1.8.3 (coroutines passed to asyncio.wait), so the service found
    by our own disco#items/info test is set the way that discovery would."""
    from slixmpp import JID
    plug = c.x["xep_0363"]
    plug.upload_service = JID("upload.a.test")
    plug.max_file_size = MAX
    return c.run(plug.upload_file(name, size=len(data), input_file=io.BytesIO(data),
                                  content_type=ctype, timeout=10), 30)


def slot(c, filename, size, ctype="text/plain", to="upload.a.test"):
    """Raw slot request: the answer iq (result or error)."""
    iq = c.x.make_iq_get(ito=to)
    req = ET.Element("{%s}request" % NS, filename=filename, size=str(size))
    if ctype is not None:
        req.set("content-type", ctype)
    iq.append(req)
    return c.iq(iq)


def slot_urls(r):
    s = r.xml.find("{%s}slot" % NS)
    assert s is not None, ET.tostring(r.xml)
    return s.find("{%s}put" % NS).get("url"), s.find("{%s}get" % NS).get("url")


def condition(r):
    return H.error_condition(r.xml)


def request(url, method="GET", body=None, headers=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        c.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None and "Content-Length" not in hdrs:
            hdrs["Content-Length"] = str(len(body))
        for k, v in hdrs.items():
            c.putheader(k, v)
        c.endheaders()
        if body:
            try:
                c.send(body)
            except OSError:
                pass   # refused before the body: the answer is still there
        r = c.getresponse()
        data = r.read() if method != "HEAD" else b""
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def put(url, data, ctype="text/plain", **kw):
    h = {"Content-Type": ctype}
    h.update(kw)
    return request(url, "PUT", data, h)


def raw_path(port, path, method="GET"):
    """A request line sent as is (no client-side normalisation)."""
    c = H.RawClient(port)
    try:
        c.send(("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (method, path)).encode())
        data = c.read_all(timeout=5)
    finally:
        c.close()
    m = re.match(rb"HTTP/1.1 (\d+)", data)
    return int(m.group(1)) if m else None


def plucs(daemon, *args):
    return subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", daemon.registry_path]
                          + list(args), capture_output=True, text=True)


def status(daemon):
    d = {}
    for line in plucs(daemon, "status").stdout.splitlines():
        k, _, v = line.partition(": ")
        d[k] = v
    return d


def test_disco_lists_service_with_form(up, client):
    c = client("alice", daemon=up)
    assert c.login()
    iq = c.x.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#items", ito="a.test")
    items = c.iq(iq).xml.find("{http://jabber.org/protocol/disco#items}query")
    assert "upload.a.test" in {i.get("jid") for i in items}
    iq = c.x.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#info", ito="upload.a.test")
    q = c.iq(iq).xml.find("{http://jabber.org/protocol/disco#info}query")
    ident = q.find("{http://jabber.org/protocol/disco#info}identity")
    assert (ident.get("category"), ident.get("type")) == ("store", "file")
    assert NS in {f.get("var") for f in q.findall("{http://jabber.org/protocol/disco#info}feature")}
    form = q.find("{jabber:x:data}x")
    fields = {f.get("var"): f.findtext("{jabber:x:data}value") for f in form}
    assert fields == {"FORM_TYPE": NS, "max-file-size": str(MAX)}


def test_slot_put_get_with_slixmpp(up, client, tmp_path):
    c = client("alice", daemon=up)
    c.x.register_plugin("xep_0363")
    assert c.login()
    data = bytes(range(256)) * 300   # 76,800 bytes, several reads and writes
    url = slix_upload(c, "photo one.png", data, "image/png")
    assert url.startswith("http://127.0.0.1:%d/upload/" % up.http_port)
    assert url.endswith("/photo%20one.png")
    st, h, body = request(url)
    assert st == 200 and body == data
    assert h["content-type"] == "image/png" and h["content-length"] == str(len(data))
    assert h["x-content-type-options"] == "nosniff"
    assert h["access-control-allow-origin"] == "*"
    assert "content-disposition" not in h          # an image is shown inline
    assert h.get("etag") and h.get("last-modified")
    # HEAD: the same headers, no body
    st, h2, body = request(url, "HEAD")
    assert st == 200 and h2["content-length"] == str(len(data)) and body == b""
    # the file sits under its random name, not the client's
    files = os.listdir(str(tmp_path / "files"))
    assert "photo one.png" not in files and not [f for f in files if f.endswith(".part")]
    assert status(up).get("upload/files") == "1"
    assert status(up).get("upload/bytes") == str(len(data))
    st, _, m = request("http://127.0.0.1:%d/metrics" % up.http_port)
    assert re.search(rb"^plucs_upload_files 1$", m, re.M)
    assert re.search(rb"^plucs_upload_bytes %d$" % len(data), m, re.M)
    assert re.search(rb"^plucs_uploads_total 1$", m, re.M)
    assert re.search(rb"^plucs_upload_received_bytes_total %d$" % len(data), m, re.M)
    assert status(up).get("upload/uploads") == "1"


def test_slot_refusals(up, client):
    c = client("alice", daemon=up)
    assert c.login()
    r = slot(c, "big.bin", MAX + 1)
    assert r["type"] == "error" and condition(r) == "not-acceptable"
    ftl = r.xml.find("{jabber:client}error/{%s}file-too-large" % NS)
    assert ftl is not None and ftl.findtext("{%s}max-file-size" % NS) == str(MAX)
    for name, size in (("", 10), ("a/b", 10), ("..", 10), ("ok.txt", 0), ("ok.txt", "-5"),
                       ("ok.txt", "12abc"), ("n" * 256, 10)):
        r = slot(c, name, size)
        assert r["type"] == "error" and condition(r) == "not-acceptable", (name, size)
    r = slot(c, "ok.txt", 10, ctype="text/plain\r\nX-Evil: 1")
    assert condition(r) == "not-acceptable"
    assert up.wait_log(r"upload: alice@a.test: slot refused: bad file name")
    # nothing but the request in this namespace
    iq = c.x.make_iq_set(ito="upload.a.test")
    iq.append(ET.Element("{%s}request" % NS, filename="x", size="1"))
    assert condition(c.iq(iq)) == "service-unavailable"
    # another domain's account asks this domain's service
    d = client("dave", daemon=up)
    assert d.login()
    assert condition(slot(d, "ok.txt", 10)) == "not-allowed"
    assert slot(d, "ok.txt", 10, to="upload.b.test")["type"] == "result"


def test_quota(plucsd_factory, client, tmp_path):
    p = plucsd_factory(**upload_registry(tmp_path, **{"plucs/upload/quota": "3000"}))
    c = client("bob", daemon=p)
    assert c.login()
    r = slot(c, "one.txt", 2000)
    putu, getu = slot_urls(r)
    assert put(putu, b"a" * 2000)[0] == 201
    r = slot(c, "two.txt", 1500)
    assert r["type"] == "error" and condition(r) == "resource-constraint"
    assert r.xml.find("{jabber:client}error").get("type") == "wait"
    # open slots count too: 900 fits, a second 900 does not
    assert slot(c, "three.txt", 900)["type"] == "result"
    assert condition(slot(c, "four.txt", 900)) == "resource-constraint"
    # another user has a quota of their own
    a = client("alice", daemon=p)
    assert a.login()
    assert slot(a, "mine.txt", 2500)["type"] == "result"


def test_put_checks(up, client):
    c = client("alice", daemon=up)
    assert c.login()
    putu, getu = slot_urls(slot(c, "n.txt", 10))
    u = urllib.parse.urlsplit(putu)
    base = "http://%s:%d%s" % (u.hostname, u.port, u.path)
    assert put(base, b"0123456789")[0] == 403                       # no secret
    assert put(base + "?token=" + "0" * 32, b"0123456789")[0] == 403  # wrong secret
    assert put(putu, b"012345678")[0] == 400                         # smaller
    assert put(putu, b"0123456789A")[0] == 413                       # larger than the slot
    assert put(putu, b"0123456789", ctype="image/png")[0] == 400     # other type
    assert request(getu)[0] == 404                                   # nothing stored yet
    st, h, _ = put(putu, b"0123456789")
    assert st == 201 and h["access-control-allow-origin"] == "*"
    assert put(putu, b"0123456789")[0] == 409                        # exists
    st, h, body = request(getu)
    assert st == 200 and body == b"0123456789"
    # a PUT to an id nobody asked for
    assert put("http://127.0.0.1:%d/upload/%s/x.txt?token=%s" % (up.http_port, "a" * 32, "b" * 32),
               b"x")[0] == 403
    # larger than plucs/upload/max_size but a valid slot shape: refused before the body
    assert up.wait_log(r"403 Forbidden \(no valid slot for this URL\)")


def test_put_bigger_than_http_body_limit(up, client):
    """The listener's body limit (max stanza size + slack) does not apply."""
    c = client("alice", daemon=up)
    assert c.login()
    data = os.urandom(MAX)
    putu, getu = slot_urls(slot(c, "big.bin", MAX, ctype="application/octet-stream"))
    assert put(putu, data, ctype="application/octet-stream")[0] == 201
    st, h, body = request(getu)
    assert st == 200 and body == data
    assert h["content-disposition"] == "attachment; filename*=UTF-8''big.bin"


def test_range(up, client):
    c = client("alice", daemon=up)
    assert c.login()
    putu, getu = slot_urls(slot(c, "r.txt", 10))
    assert put(putu, b"0123456789")[0] == 201
    st, h, body = request(getu, headers={"Range": "bytes=2-5"})
    assert st == 206 and body == b"2345" and h["content-range"] == "bytes 2-5/10"
    st, h, body = request(getu, headers={"Range": "bytes=-3"})
    assert st == 206 and body == b"789"
    st, h, body = request(getu, headers={"Range": "bytes=7-"})
    assert st == 206 and body == b"789"
    st, h, body = request(getu, headers={"Range": "bytes=10-20"})
    assert st == 416 and h["content-range"] == "bytes */10"
    st, h, body = request(getu, headers={"Range": "bytes=0-1,4-5"})   # several: whole file
    assert st == 200 and body == b"0123456789"


def test_cors_preflight(up):
    st, h, _ = request("http://127.0.0.1:%d/upload/%s/x.png" % (up.http_port, "c" * 32), "OPTIONS",
                       headers={"Origin": "http://elsewhere.example",
                                "Access-Control-Request-Method": "PUT",
                                "Access-Control-Request-Headers": "content-type"})
    assert st == 204
    assert h["access-control-allow-origin"] == "*"
    assert "PUT" in h["access-control-allow-methods"]
    assert "content-type" in h["access-control-allow-headers"].lower()


def test_path_traversal(up, client):
    c = client("alice", daemon=up)
    assert c.login()
    putu, getu = slot_urls(slot(c, "t.txt", 3))
    assert put(putu, b"abc")[0] == 201
    fid = urllib.parse.urlsplit(getu).path.split("/")[2]
    for path in ("/upload/../../../etc/passwd", "/upload/%2e%2e/%2e%2e/etc/passwd",
                 "/upload/%s%%2f..%%2fregistry.conf" % fid, "/upload/%s/t.txt%%00.png" % fid,
                 "/upload/%s/..%%5c..%%5cx" % fid, "/upload/..%2f..%2fetc%2fpasswd"):
        assert raw_path(up.http_port, path) in (400, 404), path
    assert up.wait_log(r"upload path refused \(traversal")
    for path in ("/upload/", "/upload/%s" % fid, "/upload/%s/" % fid, "/upload/XYZ/t.txt",
                 "/upload/%s/t.txt" % fid.upper()):
        assert raw_path(up.http_port, path) == 404, path
    assert raw_path(up.http_port, "/upload/%s/t.txt" % fid) == 200
    assert raw_path(up.http_port, "/upload/%s/t.txt" % fid, "DELETE") == 405


def test_expiry_and_restart(plucsd_factory, client, tmp_path):
    p = plucsd_factory(**upload_registry(tmp_path, **{"plucs/upload/quota": "100"}))
    c = client("alice", daemon=p)
    assert c.login()
    urls = []
    for name in ("old.txt", "new.txt"):
        putu, getu = slot_urls(slot(c, name, 40))
        assert put(putu, b"x" * 40)[0] == 201
        urls.append(getu)
    c.close()
    # the files, their metadata and the quota survive a restart
    p.terminate()
    H.plucsd_restart(p)
    assert request(urls[0])[0] == 200 and request(urls[1])[0] == 200
    assert status(p).get("upload/files") == "2"
    c = client("alice", daemon=p)
    assert c.login()
    assert condition(slot(c, "more.txt", 40)) == "resource-constraint"
    # one file is 3 days old; expire_days 2 (applied on reload) removes it
    d = str(tmp_path / "files")
    old = os.path.join(d, urllib.parse.urlsplit(urls[0]).path.split("/")[2])
    t = time.time() - 3 * 86400
    os.utime(old, (t, t))
    p.write_registry({"plucs/upload/expire_days": "2"})
    p.sighup()
    assert H.wait_until(lambda: request(urls[0])[0] == 404, 10)
    assert not os.path.exists(old) and not os.path.exists(old + ".meta")
    assert request(urls[1])[0] == 200
    assert H.wait_until(lambda: status(p).get("upload/files") == "1", 5)
    assert slot(c, "more.txt", 40)["type"] == "result"   # the quota was given back


def test_disabled_service(plucsd_factory, client, tmp_path):
    p = plucsd_factory(**{"plucs/http/address": "127.0.0.1",
                          "plucs/upload/dir": str(tmp_path / "never")})
    c = client("alice", daemon=p)
    assert c.login()
    iq = c.x.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#items", ito="a.test")
    items = c.iq(iq).xml.find("{http://jabber.org/protocol/disco#items}query")
    assert "upload.a.test" not in {i.get("jid") for i in items}
    r = slot(c, "x.txt", 10)
    assert r["type"] == "error" and condition(r) == "service-unavailable"
    assert raw_path(p.http_port, "/upload/%s/x.txt" % ("a" * 32)) == 404
    assert raw_path(p.http_port, "/upload/%s/x.txt" % ("a" * 32), "OPTIONS") == 404
    assert put("http://127.0.0.1:%d/upload/%s/x.txt?token=%s" % (p.http_port, "a" * 32, "b" * 32),
               b"x")[0] == 404
    assert not os.path.exists(str(tmp_path / "never"))
    assert "upload/files" not in status(p)


def test_unusable_dir_is_reported(plucsd_factory, client, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("not a folder")
    p = plucsd_factory(**upload_registry(tmp_path, **{"plucs/upload/dir": str(f)}))
    assert p.wait_log(r"plucs/upload/dir '%s' is not a usable folder" % re.escape(str(f)))
    c = client("alice", daemon=p)
    assert c.login()
    assert condition(slot(c, "x.txt", 10)) == "service-unavailable"


def test_through_apache(plucsd_factory, client, tmp_path):
    if not apache_env.available():
        pytest.fail("apache2 is not installed (/usr/sbin/apache2); run scripts/deps", pytrace=False)
    conf = str(tmp_path / "plucs-apache.conf")
    a = apache_env.Apache(conf)
    p = plucsd_factory(**upload_registry(tmp_path, **{
        "plucs/http/proxy": "true", "plucs/http/proxy/conffile": conf,
        "plucs/upload/url": "http://127.0.0.1:%d/" % a.port}))
    r = plucs(p, "apache")
    assert r.returncode == 0, r.stderr
    assert "/upload/" in open(conf).read()
    a.start()
    try:
        c = client("alice", daemon=p)
        c.x.register_plugin("xep_0363")
        assert c.login()
        data = os.urandom(150000)
        url = slix_upload(c, "via apache.bin", data, "application/octet-stream")
        assert url.startswith("http://127.0.0.1:%d/upload/" % a.port)
        st, h, body = request(url)
        assert st == 200 and body == data
        assert h["content-type"] == "application/octet-stream"
        st, h, body = request(url, headers={"Range": "bytes=10-19"})
        assert st == 206 and body == data[10:20]
        assert p.wait_log(r"upload PUT \w+ \(150000 bytes\) started")
        # X-Forwarded-For names the client in the log
        assert p.wait_log(r"http: 127\.0\.0\.1 via 127\.0\.0\.1")
        # tricks through the proxy get nothing either
        fid = urllib.parse.urlsplit(url).path.split("/")[2]
        for path in ("/upload/%2e%2e/%2e%2e/etc/passwd", "/upload/%s%%2f..%%2fx" % fid,
                     "/upload/../upload/%s/x" % fid):
            st = raw_path(a.port, path)
            assert st in (400, 403, 404), (path, st)
    finally:
        a.stop()


def test_big_file_streams_and_abandoned_put(plucsd_factory, client, tmp_path):
    """8 MiB (far above the listener's body limit) arrive intact; a PUT cut
    off halfway leaves no partial file and the slot can be used again."""
    big = 8 << 20
    p = plucsd_factory(**upload_registry(tmp_path, **{"plucs/upload/max_size": str(big)}))
    c = client("alice", daemon=p)
    assert c.login()
    data = os.urandom(big)
    putu, getu = slot_urls(slot(c, "big.bin", big, ctype="application/octet-stream"))
    assert put(putu, data, ctype="application/octet-stream")[0] == 201
    st, h, body = request(getu)
    assert st == 200 and len(body) == big and body == data
    st, h, body = request(getu, headers={"Range": "bytes=%d-" % (big - 5)})
    assert st == 206 and body == data[-5:]
    # half a body, then the connection ends
    putu, getu = slot_urls(slot(c, "cut.bin", 100000, ctype="application/octet-stream"))
    u = urllib.parse.urlsplit(putu)
    r = H.RawClient(u.port)
    r.send(("PUT %s?%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 100000\r\n\r\n" % (u.path, u.query)).encode() + b"y" * 50000)
    assert p.wait_log(r"upload PUT \w+ \(100000 bytes\) started")
    r.close()
    assert p.wait_log(r"upload of \w+ abandoned after \d+ of 100000 bytes")
    d = str(tmp_path / "files")
    assert H.wait_until(lambda: not [f for f in os.listdir(d) if f.endswith(".part")], 5)
    assert request(getu)[0] == 404
    assert put(putu, b"z" * 100000, ctype="application/octet-stream")[0] == 201
    assert request(getu)[2] == b"z" * 100000


def test_switched_on_by_config_set(plucsd_factory, client, tmp_path):
    """`plucs config set plucs/upload=true` rewrites the Apache snippet and
    the reload it asks for opens the service without a restart."""
    conf = str(tmp_path / "plucs-apache.conf")
    p = plucsd_factory(**{"plucs/http/address": "127.0.0.1", "plucs/http/proxy": "true",
                          "plucs/http/proxy/conffile": conf,
                          "plucs/upload/dir": str(tmp_path / "files")})
    assert plucs(p, "apache").returncode == 0
    assert "/upload/" not in open(conf).read()
    c = client("alice", daemon=p)
    assert c.login()
    assert condition(slot(c, "x.txt", 3)) == "service-unavailable"
    r = plucs(p, "config", "set", "plucs/upload=true", "plucs/upload/max_size=5000")
    assert r.returncode == 0, r.stderr
    text = open(conf).read()
    assert '<Location "/upload/">' in text and "LimitRequestBody 5000" in text
    assert H.wait_until(lambda: slot(c, "x.txt", 3)["type"] == "result", 10)
    putu, getu = slot_urls(slot(c, "x.txt", 3))
    assert put(putu, b"abc")[0] == 201 and request(getu)[2] == b"abc"
    r = plucs(p, "config", "set", "plucs/upload=false")
    assert r.returncode == 0, r.stderr
    assert H.wait_until(lambda: condition(slot(c, "x.txt", 3)) == "service-unavailable", 10)
    assert request(getu)[0] == 404
    assert "/upload/" not in open(conf).read()


def test_open_slots_are_bounded(plucsd_factory, client, tmp_path):
    """Without a quota, slots waiting for their PUT are still bounded (64)."""
    p = plucsd_factory(**upload_registry(tmp_path, **{"plucs/upload/quota": "0"}))
    c = client("carol", daemon=p)
    assert c.login()
    answers = [slot(c, "s%d.txt" % i, 10) for i in range(65)]
    assert all(r["type"] == "result" for r in answers[:64])
    assert condition(answers[64]) == "resource-constraint"
    # using one gives room for another
    putu, _ = slot_urls(answers[0])
    assert put(putu, b"0123456789")[0] == 201
    assert slot(c, "again.txt", 10)["type"] == "result"
