"""test_inert_settings.py: settings that were read but not used while
federation was not built (registry flag REG_F_INERT). Federation is built
now: plucs/s2s=true draws no "has no effect" warning, opens the s2s listener
on plucs/s2s/address:plucs/s2s/port, and a reload to false closes it (the
listener is re-bound live like the client port)."""
import re
import socket

import plucs_harness as H

WARNING = r"has no effect: federation"
ADDR = "127.0.12.9"


def _listening(port):
    try:
        socket.create_connection((ADDR, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_s2s_true_no_inert_warning_and_listener(plucsd_factory):
    port = H.free_port()
    p = plucsd_factory(**{"plucs/s2s": "true", "plucs/s2s/address": ADDR,
                          "plucs/s2s/port": str(port)})
    assert not re.search(WARNING, p.log()), p.log()
    assert p.wait_log(r"listening on \[%s\]:%d \(s2s\)" % (re.escape(ADDR), port), 5), p.log()
    assert _listening(port)

    start = p.log_size()
    p.registry["plucs/s2s"] = "false"
    p.write_registry()
    p.sighup()
    assert p.wait_log(r"reload: registry '.*' applied", 10, start), p.log()[start:]
    assert not re.search(WARNING, p.log()[start:])
    assert "closing listener [%s]:%d" % (ADDR, port) in p.log()[start:]
    assert H.wait_until(lambda: not _listening(port), 5)
    assert p.alive()


def test_s2s_false_no_listener(plucsd_factory):
    port = H.free_port()
    p = plucsd_factory(**{"plucs/s2s/address": ADDR, "plucs/s2s/port": str(port)})
    assert "(s2s)" not in p.log()
    assert not _listening(port)
    start = p.log_size()
    p.registry["plucs/s2s"] = "true"         # switched on by a reload
    p.write_registry()
    p.sighup()
    assert p.wait_log(r"reload: registry '.*' applied", 10, start), p.log()[start:]
    assert not re.search(WARNING, p.log()[start:])
    assert H.wait_until(lambda: _listening(port), 5)
