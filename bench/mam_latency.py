#!/usr/bin/python3
"""bench/mam_latency.py: message archive (XEP-0313) query latency at
1,000,000 archived messages (issue 14: the newest 50 with one contact in
under 10 ms). A measurement, not a test.

It starts a private slapd and one plucsd (plain TCP) once so the database
gets its schema, stops it, fills the archive directly in SQLite (one
transaction; --rows rows, all owned by alice: --share of them with bob,
the rest spread over 1,000 other contacts, ids time-ordered as plucsd
writes them), starts plucsd again and times, over a raw XMPP stream,
alice's query for the newest 50 messages with bob (RSM <max>50</max>
<before/>), from sending the iq to its <fin/> (50 results, count and
index included). Reports the median and the 90th percentile of --queries
queries, and the same query run directly against the SQLite file.

usage: bench/mam_latency.py [--rows 1000000] [--share 0.1] [--queries 30]
                            [--build build] [--keep]
"""
import argparse
import base64
import os
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

HDR = ("<?xml version='1.0'?><stream:stream to='a.test' xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>").encode()
ALICE, BOB = "alice@a.test", "bob@a.test"


class Raw:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def until(self, token, timeout=30):
        end = time.monotonic() + timeout
        while token not in self.buf:
            if time.monotonic() > end:
                raise RuntimeError("timeout waiting for %r: %r" % (token, self.buf[-300:]))
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("closed while waiting for %r: %r" % (token, self.buf[-300:]))
            self.buf += chunk
        before, self.buf = self.buf.split(token, 1)
        return before

    def login(self, user, pw, resource):
        self.s.sendall(HDR)
        self.until(b"</stream:features>")
        self.s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                       base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()) + b"</auth>")
        self.until(b"<success")
        self.s.sendall(HDR)
        self.until(b"</stream:features>")
        self.s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                       b"<resource>%s</resource></bind></iq>" % resource.encode())
        self.until(b"</iq>")


def fill(db, rows, share):
    stanza = ("<message xmlns='jabber:client' from='%s/bench' to='%s' type='chat' id='b%%d'>"
              "<body>archived message number %%d, about sixty bytes of text</body></message>")
    now_us = int(time.time() * 1e6)
    start_us = now_us - rows * 1000           # one message per millisecond until now
    every = max(1, int(round(1 / share))) if share > 0 else rows + 1
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()

    def gen():
        for i in range(rows):
            us = start_us + i * 1000
            if i % every == 0:
                w, d, s = BOB, 0, stanza % (BOB + "", ALICE)
            else:
                w, d = "contact%d@a.test" % (i % 1000), 1
                s = stanza % (ALICE, w)
            yield ((us << 8), ALICE, w, us, d, s % (i, i))
    with con:
        con.executemany("INSERT INTO mam (id, owner, with_jid, ts, dir, stanza) "
                        "VALUES (?,?,?,?,?,?)", gen())
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return time.perf_counter() - t0


def sql_query(db, n):
    con = sqlite3.connect(db)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = con.execute("SELECT id, with_jid, dir, stanza FROM mam WHERE owner = ? AND "
                        "with_jid = ? AND id BETWEEN 0 AND 9223372036854775807 "
                        "ORDER BY id DESC LIMIT 51", (ALICE, BOB)).fetchall()
        con.execute("SELECT COALESCE(SUM(n), 0) FROM mam_counts WHERE owner = ? AND "
                    "with_jid = ?", (ALICE, BOB)).fetchone()
        con.execute("SELECT COUNT(*) FROM (SELECT 1 FROM mam WHERE owner = ? AND with_jid = ? "
                    "AND id BETWEEN ? AND 9223372036854775807 LIMIT 20001)",
                    (ALICE, BOB, r[-2][0] + 1)).fetchone()
        times.append(time.perf_counter() - t0)
        assert len(r) == 51
    con.close()
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--share", type=float, default=0.1, help="share of the rows with bob")
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    ap.add_argument("--build", default=os.environ.get("PLUCS_BUILD", os.path.join(TOP, "build")))
    args = ap.parse_args()
    os.environ["PLUCS_BUILD"] = os.path.abspath(args.build)
    import plucs_harness as H     # reads PLUCS_BUILD at import
    work = tempfile.mkdtemp(prefix="plucs-mam-bench-")
    ldap = H.LdapEnv(os.path.join(work, "ldap"),
                     [os.path.join(H.HERE, "ucs-compat.ldif"), os.path.join(H.HERE, "data.ldif")])
    os.makedirs(ldap.dir)
    ldap.start()
    d = None
    try:
        os.makedirs(os.path.join(work, "plucsd"))
        d = H.Plucsd(os.path.join(work, "plucsd"), ldap, **{
            "plucs/tls": "false", "plucs/loglevel": "4", "plucs/mam/days": "0"})
        d.start()
        d.terminate()
        db = d.registry["plucs/store"].split(":", 1)[1]
        dt = fill(db, args.rows, args.share)
        size = os.path.getsize(db)
        print("filled %d rows (%d with bob) in %.1f s, database %.0f MB"
              % (args.rows, (args.rows + int(round(1 / args.share)) - 1) // int(round(1 / args.share))
                 if args.share > 0 else 0, dt, size / 1e6), flush=True)
        d.start()
        alice = Raw(d.port)
        alice.login("alice", "alice-secret", "bench")
        q = ("<iq type='set' id='q%d'><query xmlns='urn:xmpp:mam:2' queryid='x%d'>"
             "<x xmlns='jabber:x:data' type='submit'>"
             "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>"
             "<field var='with'><value>" + BOB + "</value></field></x>"
             "<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><before/></set>"
             "</query></iq>")
        times = []
        for i in range(args.queries + 3):
            t0 = time.perf_counter()
            alice.s.sendall((q % (i, i)).encode())
            got = alice.until(b"</fin>")
            dt = time.perf_counter() - t0
            alice.until(b"</iq>")
            n = got.count(b"<result ")
            if n != 50:
                raise RuntimeError("query %d: %d results, not 50: %r" % (i, n, got[-400:]))
            if i >= 3:                         # the first ones warm the page cache
                times.append(dt)
        times.sort()
        med = statistics.median(times) * 1000
        p90 = times[int(len(times) * 0.9) - 1] * 1000
        print("MAM newest 50 with one contact at %d archived messages, over XMPP: "
              "median %.2f ms, p90 %.2f ms (%d queries)" % (args.rows, med, p90, len(times)))
        d.terminate()
        st = sorted(sql_query(db, args.queries))
        print("the same page and count in SQLite directly: median %.2f ms"
              % (statistics.median(st) * 1000))
    finally:
        if d is not None:
            d.terminate()
        ldap.stop()
        if args.keep:
            print("work folder kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
