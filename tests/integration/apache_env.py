"""apache_env: a private Apache (Debian's apache2) on a loopback port with
its own ServerRoot-less configuration, pid and logs, that includes the
snippet `plucs apache` generated, and optionally serves a folder of static
files (the browser test page). Started as a child process in the
foreground; children run as www-data, so everything it serves lives in a
world-readable folder."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
MODULES = [("mpm_event_module", "mod_mpm_event.so"), ("authz_core_module", "mod_authz_core.so"),
           ("mime_module", "mod_mime.so"), ("alias_module", "mod_alias.so"),
           ("dir_module", "mod_dir.so"),
           ("proxy_module", "mod_proxy.so"), ("proxy_http_module", "mod_proxy_http.so"),
           ("proxy_wstunnel_module", "mod_proxy_wstunnel.so")]


def available():
    return os.access(APACHE, os.X_OK)


from plucs_harness import free_port, stop_process  # noqa: E402  (ports below the ephemeral range)


class Apache:
    def __init__(self, snippet, docroot=None, aliases=None):
        self.dir = tempfile.mkdtemp(prefix="plucs-apache-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.docroot = docroot or os.path.join(self.dir, "htdocs")
        os.makedirs(self.docroot, exist_ok=True)
        self.snippet = snippet
        self.aliases = aliases or {}
        self.conf = os.path.join(self.dir, "apache.conf")
        self.proc = None

    def write_conf(self):
        lines = ["ServerName 127.0.0.1", "Listen 127.0.0.1:%d" % self.port,
                 "PidFile %s/apache.pid" % self.dir, "DefaultRuntimeDir %s" % self.dir,
                 "User www-data", "Group www-data", "ErrorLog %s/error.log" % self.dir,
                 "LogLevel warn", "Timeout 120", "KeepAlive On"]
        lines += ["LoadModule %s %s/%s" % (n, MODDIR, f) for n, f in MODULES]
        lines += ["TypesConfig /etc/mime.types",
                  "AddType text/javascript .js .mjs", "AddType application/wasm .wasm",
                  "DocumentRoot %s" % self.docroot,
                  "DirectoryIndex index.html",
                  "<Directory />", "  Require all granted", "</Directory>"]
        for url, path in self.aliases.items():
            lines.append('Alias "%s" "%s"' % (url, path))
        lines.append('Include "%s"' % self.snippet)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=15):
        self.write_conf()
        r = subprocess.run([APACHE, "-f", self.conf, "-t"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("apache2 -t failed:\n" + r.stdout + r.stderr)
        self.proc = subprocess.Popen([APACHE, "-f", self.conf, "-DFOREGROUND"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr.log"), "wb"))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError("apache did not start:\n" + self.errors())

    def reload(self):
        self.write_conf()
        self.proc.send_signal(signal.SIGUSR1)   # graceful restart
        time.sleep(1)

    def errors(self):
        out = ""
        for n in ("error.log", "stderr.log"):
            p = os.path.join(self.dir, n)
            if os.path.exists(p):
                out += open(p, errors="replace").read()
        return out

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
