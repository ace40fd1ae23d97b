"""A slixmpp client with XEP-0198 stream management for test_sm.py, run as
its own process (the test SIGSTOPs it): logs in, enables SM with
resumption, sends initial presence, prints READY and stays connected.
argv: port jid password"""

import asyncio
import ssl
import sys

import slixmpp


def main():
    port, jid, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    x = slixmpp.ClientXMPP(jid, pw)
    x.loop = loop
    x.ssl_context.check_hostname = False
    x.ssl_context.verify_mode = ssl.CERT_NONE
    x.register_plugin("xep_0198")
    x.auto_reconnect = False

    async def no_dns(domain, port=None):
        return None
    x._pick_dns_answer = no_dns

    def enabled(_):
        print("SM-ENABLED", flush=True)

    def start(_):
        x.send_presence()
        print("READY", flush=True)

    x.add_event_handler("sm_enabled", enabled)
    x.add_event_handler("session_start", start)
    x.add_event_handler("message", lambda m: print("MSG", m["body"], flush=True))
    x.connect(("127.0.0.1", port))
    loop.run_until_complete(asyncio.sleep(120))


if __name__ == "__main__":
    main()
