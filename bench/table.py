#!/usr/bin/python3
"""bench/table.py: the comparison table of `make bench`, built from the JSON
files plucs-bench wrote into one results folder (bench/run). One row per
figure, one column per server, then the best anchor (ejabberd, Prosody,
jabberd2) of this run, plucsd's ratio to it and to the floor, and the target
with met / not met. A figure marked '!' comes from a phase that did not hold
(lost messages, rate not reached, failed logins).
Every scenario may have several runs (NAME-TAG.r1.json, .r2, ...): a figure
is the median of the runs, followed by its spread (+-half the min-max range
in % of the median); ratios are of medians.
usage: table.py RESULTS_DIR"""
import glob, json, os, re, statistics, sys

d = sys.argv[1]
ANCHORS = ["ejabberd", "prosody", "jabberd2"]
COLS = ["plucsd"] + ANCHORS + ["floor"]


def load1(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def runs(name):
    """Every run of NAME (e.g. plucsd-msg.json): NAME.rK.json in K order,
    or NAME itself (a single run, older layout)."""
    base = name[:-5]
    files = glob.glob(os.path.join(d, glob.escape(base) + ".r*.json"))
    files.sort(key=lambda f: int(re.search(r"\.r(\d+)\.json$", f).group(1))
               if re.search(r"\.r(\d+)\.json$", f) else 0)
    if not files and os.path.exists(os.path.join(d, name)):
        files = [os.path.join(d, name)]
    return [j for j in (load1(f) for f in files) if j]


def load(name):
    r = runs(name)
    return r[0] if r else None


class Multi:
    """The runs of one figure: median, spread, held in every run."""
    def __init__(self, vals):
        self.vals = [v for v, _ in vals]
        self.ok = all(o for _, o in vals)
        self.med = statistics.median(self.vals)
        self.lo, self.hi = min(self.vals), max(self.vals)

    def spread_pct(self):
        if len(self.vals) < 2 or not self.med:
            return None
        return (self.hi - self.lo) / 2.0 / abs(self.med) * 100


def phase(j, name, rate=None):
    if not j:
        return None
    for p in j["phases"]:
        if p["phase"] == name and (rate is None or p.get("rate") == rate):
            return p
    return None


rows = []  # (label, {col: (value, ok)}, better, target)


def row(label, getter, better, target=None, cols=COLS):
    """getter(col, run) -> (value, held) or None, for every run of col."""
    vals = {}
    for c in cols:
        got = []
        for k in range(64):
            try:
                v = getter(c, k)
            except (KeyError, TypeError, IndexError):
                v = None
            if v is None:
                break
            got.append(v)
        if got:
            vals[c] = Multi(got)
    rows.append((label, vals, better, target))


def nth(name, k):
    r = runs(name)
    return r[k] if k < len(r) else None


def login(kind, key, ph="login"):
    def g(c, k):
        p = phase(nth("%s-idle-%s.json" % (c, kind), k), ph)
        if not p:
            return None
        return (p[key], p["failed"] == 0 and p["ok"] > 0)
    return g


def msg(rate, key, tag="msg"):
    def g(c, k):
        p = phase(nth("%s-%s.json" % (c, tag), k), "msg", rate)
        if not p:
            return None
        return (p[key], bool(p["pass"]))
    return g


def maxrate(c, k):
    if k:
        return None  # the search runs in the first run only
    p = phase(load("%s-msg.json" % c), "max")
    return (p["max_rate"], True) if p else None


def pres(key):
    # held: the rate was reached and the changes reached the contacts
    # (>= 20 of 24 per change: an anchor without the roster gets ~0)
    def g(c, k):
        p = phase(nth("%s-presence.json" % c, k), "presence")
        if not p:
            return None
        return (p[key], bool(p["pass"]) and p.get("deliveries_per_change", 0) >= 20)
    return g


def storm(key):
    def g(c, k):
        p = phase(nth("%s-storm.json" % c, k), "storm")
        if not p:
            return None
        return (p[key], p["ok"] > 0 and p["errors"] <= 0.001 * p["ok"])
    return g


row("A  RSS per idle TLS session (KiB)", login("tls", "rss_per_session_kib"), "low", ("anchor", 5))
row("A  RSS per idle plain session (KiB)", login("plain", "rss_per_session_kib"), "low", ("anchor", 5))
row("A  CPU-s per 1000 TLS logins", login("tls", "cpu_per_1000_logins"), "low", ("anchor", 4))
row("A  CPU-s per 1000 plain logins", login("plain", "cpu_per_1000_logins"), "low", ("anchor", 4))
row("A  TLS logins/s", login("tls", "logins_per_s"), "high", ("slapd", 0.8))
row("A  plain logins/s", login("plain", "logins_per_s"), "high", ("slapd", 0.8))
row("A  TLS login p99 (ms)", login("tls", "lat_p99_ms"), "low")
row("A  slapd CPU-s per 1000 TLS logins", lambda c, k: (lambda p: (p["aux_cpu_s"] / p["ok"] * 1000, True)
    if p and p["ok"] else None)(phase(nth("%s-idle-tls.json" % c, k), "login")), "low")
try:
    CERT_MAIN, *CERT_ALT = open(os.path.join(d, "cert.txt")).read().split()
except (OSError, ValueError):
    CERT_MAIN, CERT_ALT = "ecdsa", []
KEYNAME = {"ecdsa": "ECDSA P-256", "rsa": "RSA-2048"}
for alt in CERT_ALT:
    row("A  CPU-s per 1000 TLS logins, %s" % KEYNAME.get(alt, alt), login("tls-" + alt, "cpu_per_1000_logins"),
        "low", ("anchor", 4))
    row("A  TLS logins/s, %s" % KEYNAME.get(alt, alt), login("tls-" + alt, "logins_per_s"), "high",
        ("slapd", 0.8))
    row("A  RSS per idle TLS session, %s (KiB)" % KEYNAME.get(alt, alt),
        login("tls-" + alt, "rss_per_session_kib"), "low", ("anchor", 5))
# reconnecting clients: a first pass kept each session's TLS ticket, the
# measured pass offers it (--resume); the share row tells whether a server
# resumed at all (a full handshake counts there as not resumed)
row("A  CPU-s per 1000 TLS logins, resumed", login("tls-resume", "cpu_per_1000_logins", "login-resumed"),
    "low", ("anchor", 4))
row("A  TLS logins/s, resumed", login("tls-resume", "logins_per_s", "login-resumed"), "high",
    ("slapd", 0.8))
row("A  TLS handshakes resumed (%)", lambda c, k: (lambda p: (
    100.0 * p.get("tls_resumed", 0) / max(1, p.get("tls_resumed", 0) + p.get("tls_full", 0)), True)
    if p else None)(phase(nth("%s-idle-tls-resume.json" % c, k), "login-resumed")), "high")
for r in (5000, 20000):
    row("B  CPU-s per 100k msgs at %d/s" % r, msg(r, "cpu_per_100k"), "low", ("anchor", 5, "floor", 2))
    row("B  p50 latency at %d/s (ms)" % r, msg(r, "p50_ms"), "low")
    row("B  p99 latency at %d/s (ms)" % r, msg(r, "p99_ms"), "low")
    row("B  max latency at %d/s (ms)" % r, msg(r, "max_ms"), "low")
    row("B  lost at %d/s" % r, msg(r, "lost"), "low")
row("B  max msgs/s with p99 < 50 ms", maxrate, "high")


def muc_rates():
    rs = set()
    for c in COLS:
        j = load("%s-muc.json" % c)
        for p in (j or {}).get("phases", []):
            if p["phase"] == "muc":
                rs.add(p["rate"])
    return sorted(rs)


def muc(rate, key):
    def g(c, k):
        p = phase(nth("%s-muc.json" % c, k), "muc", rate)
        return (p[key], bool(p["pass"])) if p else None
    return g


MUC_COLS = ["plucsd", "ejabberd", "prosody"]
row("G  rooms of 25: joined occupants", lambda c, k: (lambda p: (p["joined"], p["joined"] == p["online"])
    if p else None)(phase(nth("%s-muc.json" % c, k), "join")), "high", cols=MUC_COLS)
for r in muc_rates():
    row("G  deliveries/s at %d groupchat/s" % r, muc(r, "delivered_per_s"), "high", cols=MUC_COLS)
    row("G  CPU us per delivery at %d/s" % r, muc(r, "cpu_us_per_delivery"), "low", cols=MUC_COLS)
    row("G  p99 latency at %d/s (ms)" % r, muc(r, "p99_ms"), "low", cols=MUC_COLS)
    row("G  lost deliveries at %d/s" % r, muc(r, "lost"), "low", cols=MUC_COLS)

# presence: a user with 24 contacts (all online) changes status
row("P  CPU-s per 1000 status changes", pres("cpu_per_1000_changes"), "low", ("anchor", 4))
row("P  CPU us per presence delivery", pres("cpu_us_per_delivery"), "low")
row("P  deliveries per status change", pres("deliveries_per_change"), "high")
row("P  presence delivery p99 (ms)", pres("p99_ms"), "low")
# storm: TLS log in / close for BENCH_STORM_SECS after a warm-up pass
row("S  storm TLS logins/s (sustained)", storm("logins_per_s"), "high")
row("S  storm CPU-s per 1000 TLS logins", storm("cpu_per_1000_logins"), "low", ("anchor", 4))
row("S  storm RSS after vs before (%)", storm("rss_growth_pct"), "low", ("abs", 5))
row("S  storm logins failed", storm("errors"), "low")

slapd = phase(load("slapd-binds.json"), "binds")
fmt = lambda v: "-" if v is None else ("%.0f" % v if abs(v) >= 100 else "%.3g" % v)


def cell(m):
    if m is None:
        return "-"
    sp = m.spread_pct()
    return fmt(m.med) + ("" if sp is None else "±%.0f%%" % sp) + ("" if m.ok else "!")


W = 44
CW = 14
head = "%-*s" % (W, "") + "".join("%*s" % (CW, c) for c in COLS) + "%10s%10s%10s  %s" % (
    "best anc.", "vs best", "vs floor", "target")
print(head)
print("-" * len(head))
for label, vals, better, target in rows:
    if not vals:
        continue  # scenario not run
    line = "%-*s" % (W, label)
    for c in COLS:
        line += "%*s" % (CW, cell(vals.get(c)))
    good = [vals[a].med for a in ANCHORS if a in vals and vals[a].ok]
    if not good:  # no anchor held this phase: compare with what they did
        good = [vals[a].med for a in ANCHORS if a in vals and vals[a].med]
    best = (min(good) if better == "low" else max(good)) if good else None
    p = (vals["plucsd"].med, vals["plucsd"].ok) if "plucsd" in vals else None
    f = (vals["floor"].med, vals["floor"].ok) if "floor" in vals else None
    # a ratio of percentages (storm RSS growth) means nothing
    rb = p[0] / best if p and best and not (target and target[0] == "abs") else None
    rf = p[0] / f[0] if p and f and f[0] else None
    line += "%10s%10s%10s" % (fmt(best), "-" if rb is None else "%.2fx" % rb,
                                "-" if rf is None else "%.2fx" % rf)
    verdict = ""
    if target and p:
        ok = p[1]
        if target[0] == "abs":
            want = "<= %g" % target[1]
            ok = ok and p[0] <= target[1]
        elif target[0] == "anchor":
            want = "<= 1/%g of best" % target[1]
            ok = ok and rb is not None and rb <= 1.0 / target[1]
            if len(target) > 2:
                want += ", <= %gx floor" % target[3]
                ok = ok and rf is not None and rf <= target[3]
        else:
            sb = slapd["binds_per_s"] if slapd else None
            want = ">= %d%% of slapd's %s binds/s" % (target[1] * 100, fmt(sb))
            ok = ok and sb is not None and p[0] >= target[1] * sb
        verdict = "%s: %s" % (want, "met" if ok else "NOT met")
    print(line + "  " + verdict)

# scenario C (the filter) and SM (XEP-0198 on every session, server acks
# answered): CPU per message of a variant of scenario B against B itself.
# The runs alternate (off r1, on r1, off r2, ...): a difference is real only
# when the on and off ranges do not overlap; otherwise it is within noise.
def cost_line(tag, variant, label, target):
    for r in (5000, 20000):
        off = [p for p in (phase(j, "msg", r) for j in runs("plucsd-msg.json")) if p]
        on = [p for p in (phase(j, "msg", r) for j in runs("plucsd-%s.json" % variant)) if p]
        if not off or not on or not all(p["cpu_per_100k"] for p in off):
            continue
        mo = Multi([(p["cpu_per_100k"], bool(p["pass"])) for p in off])
        mn = Multi([(p["cpu_per_100k"], bool(p["pass"])) for p in on])
        cost = (mn.med / mo.med - 1) * 100
        pairs = ["%+.0f" % ((b["cpu_per_100k"] / a["cpu_per_100k"] - 1) * 100)
                 for a, b in zip(off, on) if a["cpu_per_100k"]]
        overlap = mn.lo <= mo.hi and mo.lo <= mn.hi
        noise = "within noise" if overlap else "a real difference"
        p99o = statistics.median(p["p99_ms"] for p in off)
        p99n = statistics.median(p["p99_ms"] for p in on)
        print("%s %s at %d/s: CPU-s per 100k %s off, %s on: %+.1f %% (%d/%d runs, pairs %s %%: %s), "
              "p99 %.3g / %.3g ms; target < %d %%: %s" % (
                  tag, label, r, cell(mo), cell(mn), cost, len(off), len(on), "/".join(pairs), noise,
                  p99o, p99n, target, "met" if (cost < target or overlap) and mn.ok else "NOT met")
              if target is not None else
              "%s %s at %d/s: CPU-s per 100k %s off, %s on: %+.1f %% (%d/%d runs, pairs %s %%: %s), "
              "p99 %.3g / %.3g ms" % (tag, label, r, cell(mo), cell(mn), cost, len(off), len(on),
                                      "/".join(pairs), noise, p99o, p99n))


print()
cost_line("C ", "msg-filter", "plucs/mod/filter", 5)
cost_line("SM", "msg-sm", "stream management", 10)
cost_line("AR", "msg-archive", "the message archive (plucs/mam)", None)
# scenario D: roster push to every online member after a group change
pushes = [p for p in (phase(j, "push") for j in runs("plucsd-push.json")) if p]
push = None
if pushes:  # the run with the median time-to-all
    pushes.sort(key=lambda p: p["all_ms"] if p["all_ms"] >= 0 else 1e12)
    push = pushes[len(pushes) // 2]
    push["runs"] = len(pushes)
if push:
    done = push["all_ms"] >= 0
    print("D  roster push after a group change: %d online, %d pushed, first %.0f ms, p50 %.0f ms, "
          "all %s; target < 2 s with 10,000 online: %s" % (
              push["online"], push["pushed"], push["first_ms"], push["p50_ms"],
              "%.0f ms" % push["all_ms"] if done else "not all within the phase",
              ("met" if done and push["all_ms"] < 2000 else "NOT met") if push["online"] >= 10000
              else ("under 2 s at this size (target is for 10,000)" if done and push["all_ms"] < 2000
                    else "NOT met")))
maxtls = phase(load("plucsd-max-tls.json"), "login")
if maxtls:
    lim = []
    try:
        for ln in open(os.path.join(d, "limits.txt")):
            f = ln.split()
            if f and f[0] == "plucsd-max-tls" and f[2] not in lim:
                lim.append(f[2])
    except OSError:
        pass
    try:
        einfo = open(os.path.join(d, "max-tls.txt")).read().split("\n")
        nofile = einfo[0].split()[1]
        cap2 = int(einfo[0].split()[2])
        srvlog = [x for x in einfo[1:] if x.strip()]
    except (OSError, IndexError, ValueError):
        nofile, cap2, srvlog = "?", 0, []
    errs = ", ".join("%s %d" % (k[4:], v) for k, v in maxtls.items() if k.startswith("err_") and v)
    srvlog = [x.split("] ", 1)[-1] for x in srvlog]
    try:
        limit = int(nofile) - 300
    except ValueError:
        limit = None
    held = maxtls.get("online_after", maxtls["ok"])
    if maxtls["failed"] <= 0 and held < maxtls["ok"]:
        why = ("all %d logged in, %d still online at the end: %s (the server ended the others)" % (
            maxtls["ok"], held, errs or "no error seen"))
        verdict = "sessions ended by the server: NOT met"
    elif maxtls["failed"] <= 0:
        why = "all %d held, as many as asked for" % maxtls["target"]
        if limit and maxtls["target"] >= limit:
            verdict = "the open-file limit reached (%s - 300 kept for the rest): met" % nofile
        else:
            verdict = "not run at the limit (%s; BENCH_E_SESSIONS=max asks for %s - 300): NOT tested" % (
                "capped at 2 sessions per user" if maxtls["target"] == cap2 else "BENCH_E_SESSIONS", nofile)
    else:
        why = ("stopped at %d of %d: %s (connect: plucs-bench could not open or connect a socket, e.g. "
               "its own open-file limit; timeout: no answer from the server, e.g. accept failing)%s" % (
                   maxtls["ok"], maxtls["target"], errs or "logins unfinished",
                   ("; server log: " + srvlog[0][:160] + (" (%d such lines)" % len(srvlog)))
                   if srvlog else "; server log: no accept error"))
        verdict = ("the open-file limit reached: met" if limit and maxtls["ok"] >= limit
                   else "below the open-file limit: NOT met")
    print("E  concurrent TLS sessions: %d of %d held, RSS %.0f MiB (%.1f KiB per session); open files: "
          "plucs-bench and driver %s, plucsd %s; %s; target: %s" % (
              min(held, maxtls["ok"]), maxtls["target"], maxtls["rss_after_kib"] / 1024.0,
              maxtls["rss_per_session_kib"], nofile, "/".join(lim) or "?", why, verdict))
if slapd:
    print("slapd simple binds (new connection each): %.0f/s, p99 %.2f ms, slapd CPU %.3f s per 1000" % (
        slapd["binds_per_s"], slapd["lat_p99_ms"], slapd["cpu_per_1000_logins"]))
try:
    print("jabberd2 authentication: %s" % open(os.path.join(d, "jabberd2-auth.txt")).read().strip())
except OSError:
    pass
print("Certificate: %s for every server%s. TLS as negotiated: %s." % (
    KEYNAME.get(CERT_MAIN, CERT_MAIN), "".join("; rows marked %s: the same runs with %s" % (
        KEYNAME.get(a, a), KEYNAME.get(a, a)) for a in CERT_ALT),
    "; ".join(sorted({"%s %s %s %s" % (fn.split("-")[0], j.get("tls_key"), j.get("tls_proto"),
                                       j.get("tls_cipher"))
                      for fn in sorted(os.listdir(d)) if fn.endswith(".json")
                      for j in [load1(os.path.join(d, fn))] if j and j.get("tls_key")})) or "-"))
print("Shared roster: plucsd plucs/roster/scope=member (24 contacts per user, presence to them);"
      " ejabberd, Prosody, jabberd2 without shared roster (empty rosters) in A, B, G and storm; in P"
      " (presence) Prosody (mod_groups, a groups file) and jabberd2 (roster rows in its sqlite store)"
      " get the same groups of 25; ejabberd does not (empty roster, no fan-out: its P figures are not"
      " comparable) unless BENCH_EJABBERD_SRG=1 (mod_shared_roster_ldap: every group shown to every"
      " user, logins of ~10 s). A P figure marked '!' had fewer than 20 deliveries per change.")
print("Each figure: median of the runs (%s), ±half the min-max range in %% of the median. Storm and E"
      " run once per server unless BENCH_STORM_REPEAT. Targets: P and S CPU '<= 1/4 of best' are"
      " proposed (issue 17 states none); S RSS <= 5 %% is issue 17's no-leak bound." % (
          "/".join(sorted({str(n) for n in (len(runs(re.sub(r"\.r\d+\.json$", ".json", fn)))
                                             for fn in os.listdir(d) if re.search(r"\.r\d+\.json$", fn))
                           if n})) or "1"))
errs = []
for fn in sorted(os.listdir(d)):
    if fn.endswith(".json"):
        j = load(fn)
        if j and any(j["errors"].values()):
            errs.append("%s: %s" % (fn[:-5], ", ".join("%s %d" % kv for kv in j["errors"].items() if kv[1])))
if errs:
    print("Errors: " + "; ".join(errs))
print("'!' = phase did not hold (loss, rate not reached or failed logins). CPU = utime+stime of all the"
      " server's processes; slapd's CPU is not included (shown separately).")
