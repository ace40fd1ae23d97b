"""test_inert_settings.py: settings that are read but not used yet
(registry flag REG_F_INERT: plucs/s2s and its companions, federation is not
built). plucsd logs exactly one warning line naming plucs/s2s at start-up
and at each reload while plucs/s2s=true, and none while it is false; `plucs
config search --verbose` says so too (test_cli_config.py)."""
import re

import plucs_harness as H

WARNING = r"plucs/s2s=true has no effect: federation \(server-to-server\) is not built"


def _count(text):
    return len(re.findall(WARNING, text))


def test_s2s_true_warns_once_at_start_and_each_reload(plucsd_factory):
    p = plucsd_factory(**{"plucs/s2s": "true"})
    assert _count(p.log()) == 1, p.log()
    line = [l for l in p.log().splitlines() if re.search(WARNING, l)][0]
    assert "plucs/s2s=true" in line

    for _ in range(2):                       # each reload: one more line
        start = p.log_size()
        p.registry["plucs/loglevel"] = "4"
        p.write_registry()
        p.sighup()
        assert p.wait_log(r"reload: registry '.*' applied", 10, start), p.log()[start:]
        assert _count(p.log()[start:]) == 1, p.log()[start:]
    assert _count(p.log()) == 3
    assert p.alive()

    # switched off: no warning at the next reload
    start = p.log_size()
    p.registry["plucs/s2s"] = "false"
    p.write_registry()
    p.sighup()
    assert p.wait_log(r"reload: registry '.*' applied", 10, start), p.log()[start:]
    assert _count(p.log()[start:]) == 0


def test_s2s_false_no_warning(plucsd_factory):
    p = plucsd_factory()
    assert "plucs/s2s" not in p.log()
    start = p.log_size()
    p.registry["plucs/s2s"] = "true"         # set by a reload: warned then
    p.write_registry()
    p.sighup()
    assert p.wait_log(r"reload: registry '.*' applied", 10, start), p.log()[start:]
    assert _count(p.log()[start:]) == 1
