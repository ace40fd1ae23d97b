#!/usr/bin/python3
"""bench/filter_cost.py: the rough cost of plucs/mod/filter on message
throughput (issue 5: "within 5% of the filter off"). A measurement, not a
test.

It starts a private slapd (scripts/ldap-env with tests/integration's
ucs-compat.ldif and data.ldif) and one plucsd (plain TCP: plucs/tls=false,
loglevel 4 = info, which has the start-up line the harness waits for),
logs in two raw-socket clients (alice and bob: the worked example lets
alice message bob under the deny policies), and then, per
round, sends N pipelined chat messages alice -> bob's bare JID (at most
--window of them in flight) while bob counts what arrives. Rounds alternate the filter off / on on the same
daemon and sessions (`plucs config set plucs/mod/filter=...`, which reloads
it); the report gives msgs/s per round and the median per mode.

usage: bench/filter_cost.py [-n 20000] [-r 5] [--threads 2] [--window 4000]
                           [--build build] [--keep]
"""
import argparse
import base64
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

HDR = ("<?xml version='1.0'?><stream:stream to='a.test' xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>").encode()


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
            chunk = self.s.recv(65536)
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
        self.s.sendall(b"<presence/>")
        self.buf = b""


def run_round(sender, receiver, n, tag, window=4000, batch=500):
    """Sends n messages, pipelined in batches with at most WINDOW of them
    not yet received (plucsd cuts off a client that falls more than 4 MB
    behind), and counts arrivals; returns (seconds, received, errors)."""
    msgs = [b"<message to='bob@a.test' type='chat' id='%s%d'><body>m%d</body></message>"
            % (tag.encode(), i, i) for i in range(n)]
    sender.s.setblocking(True)
    receiver.s.setblocking(True)
    got = sent = errors = 0
    tail = b""
    needle = b"</message>"
    t0 = time.perf_counter()
    deadline = time.monotonic() + 120
    while got < n:
        if sent < n and sent - got < window:
            k = min(batch, n - sent)
            sender.s.sendall(b"".join(msgs[sent:sent + k]))
            sent += k
        r, _, _ = select.select([receiver.s, sender.s], [], [], 0 if sent < n and sent - got < window else 5)
        if not r and (sent >= n or sent - got >= window):
            break                       # nothing for 5 s: give up
        if time.monotonic() > deadline:
            break
        if sender.s in r:               # errors, presence: must not pile up
            chunk = sender.s.recv(1 << 20)
            if not chunk:
                break
            errors += chunk.count(b"type='error'") + chunk.count(b'type="error"')
        if receiver.s in r:
            chunk = receiver.s.recv(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            got += data.count(needle)
            tail = data[-(len(needle) - 1):]
    dt = time.perf_counter() - t0
    return dt, got, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20000, help="messages per round")
    ap.add_argument("-r", "--rounds", type=int, default=5, help="rounds per mode")
    ap.add_argument("--threads", default="2", help="plucs/threads")
    ap.add_argument("--window", type=int, default=4000, help="messages in flight at most")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    ap.add_argument("--build", default=os.environ.get("PLUCS_BUILD", os.path.join(TOP, "build")))
    args = ap.parse_args()
    os.environ["PLUCS_BUILD"] = os.path.abspath(args.build)
    import plucs_harness as H     # reads PLUCS_BUILD at import

    work = tempfile.mkdtemp(prefix="plucs-filter-cost-")
    ldap = H.LdapEnv(os.path.join(work, "ldap"),
                     [os.path.join(H.HERE, "ucs-compat.ldif"), os.path.join(H.HERE, "data.ldif")])
    os.makedirs(ldap.dir)
    ldap.start()
    d = None
    try:
        os.makedirs(os.path.join(work, "plucsd"))
        d = H.Plucsd(os.path.join(work, "plucsd"), ldap, **{
            "plucs/tls": "false", "plucs/loglevel": "4", "plucs/threads": args.threads,
            "plucs/mod/filter": "false"})
        d.start()
        alice, bob = Raw(d.port), Raw(d.port)
        alice.login("alice", "alice-secret", "bench")
        bob.login("bob", "bob-secret", "bench")
        time.sleep(0.5)
        bob.s.settimeout(0.3)
        try:
            while bob.s.recv(65536):
                pass
        except socket.timeout:
            pass
        plucs = os.path.join(args.build, "plucs")

        chk = [0]

        def set_filter(on):
            subprocess.run([plucs, "--registry", d.registry_path, "config", "set",
                            "plucs/mod/filter=%s" % ("true" if on else "false")],
                           check=True, capture_output=True)
            # the switch took effect: bob -> carol is refused (worked
            # example) exactly when the filter is on
            end = time.monotonic() + 5
            while True:
                chk[0] += 1
                bob.s.sendall(b"<message to='carol@a.test' type='chat' id='chk%d'><body>x</body>"
                              b"</message>" % chk[0])
                bob.s.settimeout(0.3)
                data = b""
                try:
                    while True:
                        chunk = bob.s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except socket.timeout:
                    pass
                if (b"policy-violation" in data) == on:
                    break
                if time.monotonic() > end:
                    raise RuntimeError("plucs/mod/filter=%s not in effect" % on)
            bob.s.settimeout(30)
            time.sleep(0.2)

        # warm-up
        run_round(alice, bob, min(args.n, 5000), "w")
        res = {False: [], True: []}
        for rnd in range(args.rounds):
            for on in (False, True) if rnd % 2 == 0 else (True, False):
                set_filter(on)
                dt, got, errs = run_round(alice, bob, args.n, "r%d%s" % (rnd, "on" if on else "off"),
                                          args.window)
                rate = got / dt if dt > 0 else 0
                res[on].append(rate)
                print("round %d filter=%-3s: %d/%d received, %d errors, %.3f s, %.0f msgs/s"
                      % (rnd, "on" if on else "off", got, args.n, errs, dt, rate), flush=True)
                if got != args.n:
                    raise RuntimeError("incomplete round: %d of %d messages missing"
                                       % (args.n - got, args.n))
        off, on = statistics.median(res[False]), statistics.median(res[True])
        print("median: filter off %.0f msgs/s, filter on %.0f msgs/s, cost %.1f%%"
              % (off, on, 100.0 * (off - on) / off))
        print("best:   filter off %.0f msgs/s, filter on %.0f msgs/s"
              % (max(res[False]), max(res[True])))
    finally:
        if d is not None:
            d.terminate()
        ldap.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work)


if __name__ == "__main__":
    main()
