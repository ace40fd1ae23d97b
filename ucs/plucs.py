# plucs.py: the UCR module of PLUCS, so that `ucr set plucs/...` (and a UCR
# policy, or the UMC module) reaches the running service like
# `plucs config set` does. Installed as /etc/univention/templates/modules/
# plucs.py and registered by plucs.info for every plucs/ variable. UCR calls
# handler() after a change; it
#   - rewrites the Apache reverse-proxy snippet (`plucs apache`) when a
#     plucs/http/* or plucs/upload* variable changed, enables or disables
#     it and reloads Apache when the file changed;
#   - updates the packet filter rules (security/packetfilter/package/plucs/
#     ...) when a port, address or plucs/s2s changed;
#   - asks the running plucsd to reload (`plucs reload`).
# `python3 plucs.py firewall` sets the packet filter rules from the current
# values (the join script uses it). Values come from `plucs config get`, so
# unset variables mean PLUCS's built-in defaults, never a copy of them here.
import os
import subprocess
import sys

PACKAGE = "plucs"
PF_PREFIX = "security/packetfilter/package/%s/tcp/" % PACKAGE
FIREWALL_KEYS = (
    "plucs/c2s/port", "plucs/c2s/tls/port", "plucs/s2s", "plucs/s2s/port",
    "plucs/s2s/tls/port", "plucs/http/port", "plucs/http/address",
)
TRUE = ("yes", "true", "1", "enable", "enabled", "on")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
APACHE_MODULES = ("proxy", "proxy_http", "proxy_wstunnel")


def plucs_get(key):
    """The effective value of a PLUCS variable (its default when unset)."""
    p = subprocess.run(["plucs", "config", "get", key], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else ""


def _port(get, key):
    try:
        port = int(get(key))
    except ValueError:
        return 0
    return port if 0 < port < 65536 else 0


def packetfilter_wanted(get):
    """Rules (UCR key -> value, with English and German descriptions) for
    the ports PLUCS listens on publicly: c2s (STARTTLS and direct TLS),
    s2s while plucs/s2s is on, HTTP only when it listens beyond loopback
    (normally Apache proxies it)."""
    rules = []
    rules.append((_port(get, "plucs/c2s/port"), "XMPP client connections (c2s)",
                  "XMPP-Client-Verbindungen (c2s)"))
    rules.append((_port(get, "plucs/c2s/tls/port"), "XMPP client connections, direct TLS",
                  "XMPP-Client-Verbindungen, direktes TLS"))
    if get("plucs/s2s").lower() in TRUE:
        rules.append((_port(get, "plucs/s2s/port"), "XMPP server-to-server connections (s2s)",
                      "XMPP-Server-zu-Server-Verbindungen (s2s)"))
        rules.append((_port(get, "plucs/s2s/tls/port"), "XMPP server-to-server connections, direct TLS",
                      "XMPP-Server-zu-Server-Verbindungen, direktes TLS"))
    addresses = get("plucs/http/address").split()
    if any(a not in LOOPBACK and not a.startswith("127.") for a in addresses):
        rules.append((_port(get, "plucs/http/port"), "XMPP over HTTP (BOSH, WebSocket)",
                      "XMPP über HTTP (BOSH, WebSocket)"))
    wanted = {}
    for port, en, de in rules:
        if not port:
            continue   # 0: that listener is off
        key = "%s%d/all" % (PF_PREFIX, port)
        wanted[key] = "ACCEPT"
        wanted[key + "/en"] = en
        wanted[key + "/de"] = de
    return wanted


def packetfilter_changes(get, current):
    """What to set (key -> value) and unset (key -> None) so that the
    plucs rules among CURRENT (a mapping of UCR keys to values) are
    exactly the wanted ones."""
    wanted = packetfilter_wanted(get)
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    for k in current:
        if k.startswith(PF_PREFIX) and k not in wanted:
            changes[k] = None
    return changes


def apply_firewall():
    """Run as `plucs.py firewall` (its own process: UCR is not locked)."""
    from univention.config_registry import ConfigRegistry, handler_set, handler_unset
    ucr = ConfigRegistry()
    ucr.load()
    current = {k: ucr[k] for k in ucr.keys() if k.startswith(PF_PREFIX)}
    changes = packetfilter_changes(plucs_get, current)
    sets = ["%s=%s" % (k, v) for k, v in sorted(changes.items()) if v is not None]
    unsets = [k for k, v in sorted(changes.items()) if v is None]
    if sets:
        handler_set(sets)
    if unsets:
        handler_unset(unsets)
    if changes:
        subprocess.call(["systemctl", "try-restart", "univention-firewall.service"])
    return 0


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def apache():
    conffile = plucs_get("plucs/http/proxy/conffile")
    before = _read(conffile) if conffile else None
    subprocess.call(["plucs", "apache"])
    after = _read(conffile) if conffile else None
    if before == after:
        return
    name = os.path.basename(conffile)
    if conffile.startswith("/etc/apache2/conf-available/") and name.endswith(".conf"):
        if after is not None:
            subprocess.call(["a2enmod", "-q"] + list(APACHE_MODULES))
            subprocess.call(["a2enconf", "-q", name[:-5]])
        else:
            subprocess.call(["a2disconf", "-q", name[:-5]])
    subprocess.call(["systemctl", "try-reload-or-restart", "apache2.service"])


def handler(config_registry, changes):
    keys = set(changes)
    if any(k.startswith(("plucs/http/", "plucs/upload")) for k in keys):
        apache()
    if keys.intersection(FIREWALL_KEYS):
        # The packet filter variables are UCR variables too: set them from
        # a separate process once this `ucr set` has released the registry.
        subprocess.Popen([sys.executable, os.path.abspath(__file__), "firewall"],
                         start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # plucsd also watches the registry files; a reload while it is not
    # running is no error.
    subprocess.call(["plucs", "reload"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    if sys.argv[1:] == ["firewall"]:
        sys.exit(apply_firewall())
    sys.stderr.write("usage: python3 plucs.py firewall\n")
    sys.exit(2)
