#!/usr/bin/python3
"""bench/quick_idle.py: a quick, rough measurement until plucs-bench exists:
N raw XMPP logins (SASL PLAIN, no TLS) against a running plucsd, reporting
logins per second and the server's RSS growth per idle session.

usage: quick_idle.py HOST PORT DOMAIN PID USER:PASSWORD[,USER:PASSWORD...] N
Sessions cycle over the given accounts with distinct resources."""
import asyncio, base64, sys, time

host, port, domain, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
accounts = [a.split(":", 1) for a in sys.argv[5].split(",")]
n = int(sys.argv[6])
HDR = ("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" % domain).encode()

def rss_kib():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

async def until(reader, token, buf=b""):
    while token not in buf:
        chunk = await asyncio.wait_for(reader.read(65536), 30)
        if not chunk:
            raise RuntimeError("closed: %r" % buf[-200:])
        buf += chunk
    return buf.split(token, 1)[1]

async def login(i, sem, conns):
    user, pw = accounts[i % len(accounts)]
    async with sem:
        r, w = await asyncio.open_connection(host, port, local_addr=("127.0.0.%d" % (2 + i % 200), 0))
        w.write(HDR)
        rest = await until(r, b"</stream:features>")
        w.write(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()) + b"</auth>")
        rest = await until(r, b"<success", rest)
        w.write(HDR)
        rest = await until(r, b"</stream:features>", rest)
        w.write(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                b"<resource>q%d</resource></bind></iq><presence/>" % i)
        await until(r, b"</iq>", rest)
        conns.append((r, w))

async def main():
    conns = []
    sem = asyncio.Semaphore(50)
    before = rss_kib()
    t0 = time.time()
    await asyncio.gather(*(login(i, sem, conns) for i in range(n)))
    dt = time.time() - t0
    await asyncio.sleep(1)
    after = rss_kib()
    print("sessions=%d logins/s=%.0f rss_before=%d KiB rss_after=%d KiB per_session=%.1f KiB"
          % (len(conns), n / dt, before, after, (after - before) / max(1, len(conns))))
    for r, w in conns:
        w.close()

asyncio.run(main())
