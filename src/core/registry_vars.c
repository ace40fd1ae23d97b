/* registry_vars.c: the table of known registry variables (type, default,
 * range or choices, flags, English and German description) and the defaults
 * that are computed from the host (hostname, DNS domain, locale language).
 * Validation lives in registry_validate.c, the file itself in registry.c. */
#include "core/registry.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define R REG_F_RESTART
#define Q REG_F_REQUIRED
#define S REG_F_STATIC
#define I REG_F_INERT
#define P REG_F_PREFIX

/* Sorted by nothing in particular: grouped as in docs/registry.md. */
static const reg_var vars[] = {
    /* host identity and directory connection (UCS standard names) */
    { "hostname", REG_STR, NULL, 0, 0, NULL, 0,
      "the short name of this host: the cn of its host object in the directory",
      "der kurze Name dieses Rechners: der cn seines Rechnerobjekts im Verzeichnis" },
    { "domainname", REG_STR, NULL, 0, 0, NULL, 0,
      "the primary DNS domain; default XMPP domain for new users",
      "die primäre DNS-Domäne; Standard-XMPP-Domäne für neue Benutzer" },
    { "ldap/base", REG_STR, NULL, 0, 0, NULL, Q,
      "the LDAP search base, e.g. dc=example,dc=com",
      "die LDAP-Suchbasis, z.B. dc=example,dc=com" },
    { "ldap/hostdn", REG_STR, NULL, 0, 0, NULL, Q,
      "the DN this server binds with for searches, e.g. cn=xmpp,cn=dc,cn=computers,dc=example,dc=com",
      "der DN, mit dem sich dieser Server für Suchen anmeldet, z.B. cn=xmpp,cn=dc,cn=computers,dc=example,dc=com" },
    { "ldap/server/name", REG_STR, "", 0, 0, NULL, 0,
      "the primary LDAP server (host name or IP address)",
      "der primäre LDAP-Server (Rechnername oder IP-Adresse)" },
    { "ldap/server/addition", REG_STR, "", 0, 0, NULL, 0,
      "further LDAP servers, space separated, tried in order when the primary fails",
      "weitere LDAP-Server, durch Leerzeichen getrennt, der Reihe nach versucht, wenn der primäre ausfällt" },
    { "plucs/ldap/port", REG_INT, "7636", 1, 65535, NULL, 0,
      "the port of the LDAP servers",
      "der Port der LDAP-Server" },
    { "plucs/ldap/tls", REG_BOOL, "true", 0, 0, NULL, 0,
      "use LDAPS (TLS from the first byte, not STARTTLS)",
      "LDAPS verwenden (TLS ab dem ersten Byte, kein STARTTLS)" },
    { "plucs/ldap/uri", REG_STR, "", 0, 0, NULL, 0,
      "when set, replaces ldap/server/name, ldap/server/addition, plucs/ldap/port and plucs/ldap/tls: "
      "space-separated LDAP URIs (ldap://, ldaps://, ldapi://)",
      "ersetzt, wenn gesetzt, ldap/server/name, ldap/server/addition, plucs/ldap/port und plucs/ldap/tls: "
      "durch Leerzeichen getrennte LDAP-URIs (ldap://, ldaps://, ldapi://)" },
    { "plucs/ldap/secretfile", REG_PATH, "/etc/machine.secret", 0, 0, NULL, 0,
      "the file holding the password of ldap/hostdn (a trailing newline is ignored)",
      "die Datei mit dem Passwort von ldap/hostdn (ein abschließender Zeilenumbruch wird ignoriert)" },
    { "plucs/ldap/cacert", REG_PATH, "/etc/univention/ssl/ucsCA/CAcert.pem", 0, 0, NULL, 0,
      "the CA certificate used to verify the LDAP servers",
      "das CA-Zertifikat, mit dem die LDAP-Server geprüft werden" },
    { "plucs/ldap/poll", REG_INT, "30", 1, 86400, NULL, 0,
      "seconds between directory polls when the server offers no change feed",
      "Sekunden zwischen zwei Abfragen des Verzeichnisses, wenn der Server keine Änderungsmeldungen anbietet" },
    { "plucs/ldap/auth_connections", REG_INT, "0", 0, 64, NULL, 0,
      "LDAP connections for users' password checks (binds in parallel); 0 means twice the worker "
      "threads (plucs/threads), at most 64",
      "LDAP-Verbindungen für die Passwortprüfung der Benutzer (gleichzeitige Binds); 0 bedeutet das "
      "Doppelte der Arbeits-Threads (plucs/threads), höchstens 64" },

    /* the service (names from the manual) */
    { "plucs/autostart", REG_BOOL, "true", 0, 0, NULL, 0,
      "start the XMPP service at boot",
      "den XMPP-Dienst beim Systemstart starten" },
    { "plucs/language", REG_STR, NULL, 0, 0, NULL, 0,
      "language of texts the server generates (en, de)",
      "Sprache der vom Server erzeugten Texte (en, de)" },
    { "plucs/restart/listener", REG_BOOL, "true", 0, 0, NULL, 0,
      "apply directory changes automatically; false: only on an explicit reload",
      "Änderungen im Verzeichnis automatisch übernehmen; false: nur bei ausdrücklichem Neuladen" },
    { "plucs/loglevel", REG_INT, "3", 0, 5, NULL, 0,
      "log verbosity: 0 none, 1 critical, 2 error, 3 warning, 4 info, 5 debug",
      "Ausführlichkeit des Protokolls: 0 nichts, 1 kritisch, 2 Fehler, 3 Warnung, 4 Info, 5 Debug" },
    { "plucs/mod/filter", REG_BOOL, "false", 0, 0, NULL, 0,
      "restrict message and presence stanzas by group membership",
      "Nachrichten und Anwesenheit anhand der Gruppenmitgliedschaft einschränken" },
    { "plucs/mod/filter/message_policy", REG_ENUM, "deny", 0, 0, "allow,deny", 0,
      "message policy for groups with an empty message list",
      "Nachrichten-Regel für Gruppen mit leerer Nachrichtenliste" },
    { "plucs/mod/filter/presence_policy", REG_ENUM, "deny", 0, 0, "allow,deny", 0,
      "presence policy for groups with an empty presence list",
      "Anwesenheits-Regel für Gruppen mit leerer Anwesenheitsliste" },
    { "plucs/certfile", REG_PATH, "/etc/plucs/certs/plucs.pem", 0, 0, NULL, 0,
      "certificate for clients: PEM with key and certificates in one file, or X.pem with X.key beside it",
      "Zertifikat für Clients: PEM mit Schlüssel und Zertifikaten in einer Datei, oder X.pem mit X.key daneben" },
    { "plucs/tls", REG_ENUM, "true", 0, 0, "true,false,required", 0,
      "offer STARTTLS to clients; required refuses clients that do not use it",
      "Clients STARTTLS anbieten; required weist Clients ab, die es nicht verwenden" },
    { "plucs/tls/session_tickets", REG_BOOL, "true", 0, 0, NULL, 0,
      "let reconnecting clients resume their TLS session from a ticket (no full handshake); keys rotate in memory every 6 h, no early data",
      "wiederverbindenden Clients erlauben, ihre TLS-Sitzung per Ticket fortzusetzen (kein vollständiger Handshake); Schlüssel wechseln alle 6 h im Speicher, keine Early Data" },
    { "plucs/userlabel", REG_STR, "gecos", 0, 0, NULL, 0,
      "LDAP attribute shown as a user's name in rosters",
      "LDAP-Attribut, das als Name eines Benutzers in Kontaktlisten erscheint" },
    { "plucs/grouplabel", REG_STR, "cn", 0, 0, NULL, 0,
      "LDAP attribute shown as a group's name in rosters",
      "LDAP-Attribut, das als Name einer Gruppe in Kontaktlisten erscheint" },
    { "plucs/http/proxy", REG_BOOL, "false", 0, 0, NULL, 0,
      "generate the Apache reverse-proxy snippet for the HTTP URLs",
      "das Apache-Reverse-Proxy-Schnipsel für die HTTP-URLs erzeugen" },
    { "plucs/http/bind", REG_BOOL, "false", 0, 0, NULL, 0,
      "offer BOSH (XEP-0124/0206)",
      "BOSH anbieten (XEP-0124/0206)" },
    { "plucs/http/bind/url", REG_URLPATH, "/http-bind/", 0, 0, NULL, 0,
      "URL path of BOSH",
      "URL-Pfad von BOSH" },
    { "plucs/http/poll", REG_BOOL, "false", 0, 0, NULL, 0,
      "offer HTTP polling (XEP-0025)",
      "HTTP-Polling anbieten (XEP-0025)" },
    { "plucs/http/poll/url", REG_URLPATH, "/http-poll/", 0, 0, NULL, 0,
      "URL path of HTTP polling",
      "URL-Pfad des HTTP-Pollings" },
    { "plucs/s2s", REG_BOOL, "false", 0, 0, NULL, 0,
      "federate with other XMPP servers (server-to-server)",
      "Verbindungen zu anderen XMPP-Servern erlauben (Server-zu-Server)" },
    { "plucs/s2s/certfile", REG_PATH, NULL, 0, 0, NULL, 0,
      "certificate for server-to-server connections (default: the value of plucs/certfile)",
      "Zertifikat für Server-zu-Server-Verbindungen (Standard: der Wert von plucs/certfile)" },
    { "plucs/s2s/tls", REG_ENUM, "true", 0, 0, "false,optional,required,required_trusted,true", 0,
      "TLS on server-to-server connections; true means optional",
      "TLS bei Server-zu-Server-Verbindungen; true bedeutet optional" },

    /* group chat (XEP-0045), docs/muc.md */
    { "plucs/muc", REG_BOOL, "true", 0, 0, NULL, 0,
      "offer multi-user chat rooms (XEP-0045) at plucs/muc/host for every served domain",
      "Mehrbenutzer-Chaträume (XEP-0045) unter plucs/muc/host für jede bediente Domäne anbieten" },
    { "plucs/muc/host", REG_STR, "conference.%s", 0, 0, NULL, 0,
      "the address of the group chat service; %s stands for the served domain",
      "die Adresse des Gruppenchat-Dienstes; %s steht für die bediente Domäne" },
    { "plucs/muc/create", REG_STR, "all", 0, 0, NULL, 0,
      "who may create rooms: all, none, or the cn of a directory group whose members may",
      "wer Räume anlegen darf: all, none oder der cn einer Verzeichnisgruppe, deren Mitglieder es dürfen" },
    { "plucs/muc/grouprooms", REG_BOOL, "false", 0, 0, NULL, 0,
      "give every XMPP group a members-only room whose members follow the directory",
      "jeder XMPP-Gruppe einen Raum nur für Mitglieder geben, dessen Mitglieder dem Verzeichnis folgen" },
    { "plucs/muc/grouprooms/owners", REG_STR, "", 0, 0, NULL, 0,
      "the cn of a directory group whose members own the group rooms; empty: nobody",
      "der cn einer Verzeichnisgruppe, deren Mitglieder die Gruppenräume besitzen; leer: niemand" },

    /* phones and several devices, docs/features.md */
    { "plucs/sm", REG_BOOL, "true", 0, 0, NULL, 0,
      "offer stream management (XEP-0198): acknowledgements and resumption after a lost connection",
      "Stream-Management (XEP-0198) anbieten: Bestätigungen und Wiederaufnahme nach Verbindungsverlust" },
    { "plucs/sm/timeout", REG_INT, "300", 1, 86400, NULL, 0,
      "seconds a session whose connection broke stays resumable (and available to contacts)",
      "Sekunden, die eine Sitzung mit abgebrochener Verbindung wiederaufnehmbar (und für Kontakte verfügbar) bleibt" },
    { "plucs/sm/max_unacked", REG_INT, "1000", 10, 100000, NULL, 0,
      "stanzas a client may leave unacknowledged before the stream is closed with resource-constraint",
      "Stanzas, die ein Client unbestätigt lassen darf, bevor der Stream mit resource-constraint endet" },
    { "plucs/csi/max", REG_INT, "500", 1, 100000, NULL, 0,
      "stanzas held for an inactive client (XEP-0352) before everything held is sent",
      "Stanzas, die für einen inaktiven Client (XEP-0352) zurückgehalten werden, bevor alles gesendet wird" },
    { "plucs/mam", REG_BOOL, "true", 0, 0, NULL, 0,
      "archive one-to-one messages for both parties (XEP-0313)",
      "Eins-zu-eins-Nachrichten für beide Seiten archivieren (XEP-0313)" },
    { "plucs/mam/days", REG_INT, "365", 0, 36500, NULL, 0,
      "days archived messages are kept; 0 keeps them forever",
      "Tage, die archivierte Nachrichten aufbewahrt werden; 0 behält sie für immer" },
    { "plucs/push", REG_BOOL, "true", 0, 0, NULL, 0,
      "let clients register push notification services (XEP-0357)",
      "Clients Push-Benachrichtigungsdienste (XEP-0357) registrieren lassen" },
    { "plucs/push/interval", REG_INT, "10", 0, 3600, NULL, 0,
      "at most one push notification per account and service within this many seconds",
      "höchstens eine Push-Benachrichtigung pro Konto und Dienst innerhalb so vieler Sekunden" },

    /* personal data and modern clients, docs/features.md */
    { "plucs/pubsub", REG_BOOL, "true", 0, 0, NULL, 0,
      "offer a publish-subscribe service (XEP-0060) at plucs/pubsub/host and personal eventing (XEP-0163) on every account",
      "einen Publish-Subscribe-Dienst (XEP-0060) unter plucs/pubsub/host und persönliches Eventing (XEP-0163) für jedes Konto anbieten" },
    { "plucs/pubsub/host", REG_STR, "pubsub.%s", 0, 0, NULL, 0,
      "the address of the publish-subscribe service; %s stands for the served domain",
      "die Adresse des Publish-Subscribe-Dienstes; %s steht für die bediente Domäne" },
    { "plucs/pubsub/max_items", REG_INT, "1000", 1, 100000, NULL, 0,
      "most items one node keeps (pubsub#max_items=max means this many)",
      "höchstens so viele Einträge behält ein Knoten (pubsub#max_items=max bedeutet diese Zahl)" },
    { "plucs/pubsub/max_item_size", REG_INT, "65536", 256, 10485760, NULL, 0,
      "largest payload of one published item in bytes",
      "größte Nutzlast eines veröffentlichten Eintrags in Bytes" },
    { "plucs/pubsub/max_nodes", REG_INT, "1000", 1, 100000, NULL, 0,
      "most nodes one account may own (personal nodes and nodes on the service)",
      "höchstens so viele Knoten darf ein Konto besitzen (persönliche Knoten und Knoten des Dienstes)" },
    { "plucs/upload", REG_BOOL, "false", 0, 0, NULL, 0,
      "offer HTTP file upload (XEP-0363) at upload.DOMAIN through the HTTP listener",
      "HTTP-Datei-Upload (XEP-0363) unter upload.DOMAIN über den HTTP-Listener anbieten" },
    { "plucs/upload/dir", REG_PATH, "/var/lib/plucs/upload", 0, 0, NULL, S,
      "folder where uploaded files are kept",
      "Ordner, in dem hochgeladene Dateien liegen" },
    { "plucs/upload/url", REG_STR, "", 0, 0, NULL, 0,
      "public origin of upload URLs, e.g. https://chat.example.org (Apache); /upload/ is added; empty uses the HTTP listener's own address",
      "öffentliche Basis-URL der Uploads (die Apache-Adresse); leer nimmt die Adresse des HTTP-Listeners" },
    { "plucs/upload/max_size", REG_INT, "104857600", 1, 2147483647, NULL, 0,
      "largest uploaded file in bytes",
      "größte hochgeladene Datei in Bytes" },
    { "plucs/upload/quota", REG_INT, "1073741824", 0, 2147483647, NULL, 0,
      "bytes of uploaded files one user may keep; 0 means no limit",
      "Bytes an hochgeladenen Dateien, die ein Benutzer behalten darf; 0 bedeutet keine Grenze" },
    { "plucs/upload/expire_days", REG_INT, "30", 0, 36500, NULL, 0,
      "days after which uploaded files are deleted; 0 keeps them forever",
      "Tage, nach denen hochgeladene Dateien gelöscht werden; 0 behält sie für immer" },
    { "plucs/fast/days", REG_INT, "14", 0, 3650, NULL, 0,
      "days a FAST login token (XEP-0484) stays valid; 0 turns FAST tokens off",
      "Tage, die ein FAST-Anmeldetoken (XEP-0484) gültig bleibt; 0 schaltet FAST-Tokens ab" },

    /* additions for non-UCS hosts and modern deployments */
    { "plucs/c2s/address", REG_STR, "::", 0, 0, NULL, R,
      "addresses the client listener binds to, space separated (:: means all)",
      "Adressen des Client-Listeners, durch Leerzeichen getrennt (:: bedeutet alle)" },
    { "plucs/c2s/port", REG_INT, "5222", 1, 65535, NULL, R,
      "client port (STARTTLS)",
      "Client-Port (STARTTLS)" },
    { "plucs/c2s/tls/port", REG_INT, "0", 0, 65535, NULL, R,
      "direct-TLS client port (XEP-0368, usually 5223); 0 turns it off",
      "Client-Port mit direktem TLS (XEP-0368, meist 5223); 0 schaltet ihn ab" },
    { "plucs/s2s/port", REG_INT, "5269", 1, 65535, NULL, R,
      "server-to-server port",
      "Server-zu-Server-Port" },
    { "plucs/s2s/tls/port", REG_INT, "0", 0, 65535, NULL, R,
      "direct-TLS server-to-server port (XEP-0368, usually 5270); 0 turns it off",
      "Server-zu-Server-Port mit direktem TLS (XEP-0368, meist 5270); 0 schaltet ihn ab" },
    { "plucs/s2s/address", REG_STR, "::", 0, 0, NULL, R,
      "addresses the server-to-server listener binds to, space separated (:: means all)",
      "Adressen des Server-zu-Server-Listeners, durch Leerzeichen getrennt (:: bedeutet alle)" },
    { "plucs/s2s/idle", REG_INT, "600", 10, 86400, NULL, 0,
      "seconds after which an unused server-to-server connection is closed",
      "Sekunden, nach denen eine unbenutzte Server-zu-Server-Verbindung geschlossen wird" },
    { "plucs/s2s/timeout", REG_INT, "30", 1, 600, NULL, 0,
      "seconds to set up a server-to-server connection before queued stanzas are bounced",
      "Sekunden für den Aufbau einer Server-zu-Server-Verbindung, danach werden wartende Stanzas abgewiesen" },
    { "plucs/s2s/cafile", REG_STR, "", 0, 0, NULL, 0,
      "CA certificates (PEM) trusted for peer certificates; empty: the system's CA store",
      "CA-Zertifikate (PEM) für die Prüfung der Gegenstellen; leer: der CA-Speicher des Systems" },
    { "plucs/s2s/max_stanza_size", REG_INT, "262144", 1024, 16777216, NULL, 0,
      "largest stanza in bytes a peer server may send",
      "größtes Stanza in Bytes, das ein anderer Server senden darf" },
    { "plucs/s2s/max_per_ip", REG_INT, "20", 0, 100000, NULL, 0,
      "incoming server-to-server connections per peer address; 0: no limit",
      "eingehende Server-zu-Server-Verbindungen je Adresse der Gegenstelle; 0: keine Grenze" },
    { "plucs/s2s/route/", REG_STR, "", 0, 0, NULL, P,
      "plucs/s2s/route/DOMAIN=HOST:PORT connects to DOMAIN there instead of asking DNS",
      "plucs/s2s/route/DOMAIN=HOST:PORT verbindet sich dort mit DOMAIN, statt DNS zu fragen" },
    { "plucs/http/address", REG_STR, "127.0.0.1 ::1", 0, 0, NULL, R,
      "addresses the HTTP listener binds to, space separated (loopback: Apache proxies it)",
      "Adressen des HTTP-Listeners, durch Leerzeichen getrennt (Loopback: Apache leitet weiter)" },
    { "plucs/http/port", REG_INT, "5280", 1, 65535, NULL, R,
      "HTTP port (BOSH, polling, WebSocket)",
      "HTTP-Port (BOSH, Polling, WebSocket)" },
    { "plucs/http/websocket", REG_BOOL, "false", 0, 0, NULL, 0,
      "offer XMPP over WebSocket (RFC 7395)",
      "XMPP über WebSocket anbieten (RFC 7395)" },
    { "plucs/http/websocket/url", REG_URLPATH, "/xmpp-websocket/", 0, 0, NULL, 0,
      "URL path of the WebSocket endpoint",
      "URL-Pfad des WebSocket-Endpunkts" },
    { "plucs/http/cors/origins", REG_STR, "*", 0, 0, NULL, 0,
      "origins (e.g. https://www.example.com) allowed to use the XMPP URLs from browser pages, "
      "space separated; * allows any, empty allows none",
      "Ursprünge (z.B. https://www.example.com), deren Browser-Seiten die XMPP-URLs verwenden dürfen, "
      "durch Leerzeichen getrennt; * erlaubt alle, leer keinen" },
    { "plucs/http/bind/inactivity", REG_INT, "60", 2, 3600, NULL, 0,
      "seconds a BOSH or polling session may go without a request before it ends",
      "Sekunden, die eine BOSH- oder Polling-Sitzung ohne Anfrage bleiben darf, bevor sie endet" },
    { "plucs/http/proxy/conffile", REG_PATH, "/etc/apache2/conf-available/plucs.conf", 0, 0, NULL, 0,
      "where plucs writes the Apache reverse-proxy snippet while plucs/http/proxy is true",
      "wohin plucs das Apache-Reverse-Proxy-Schnipsel schreibt, solange plucs/http/proxy true ist" },
    { "plucs/http/proxy/reload", REG_STR, "apachectl graceful", 0, 0, NULL, 0,
      "the command `plucs apache follow` runs (with /bin/sh) after it rewrote or removed the Apache "
      "snippet; empty runs none",
      "der Befehl, den `plucs apache follow` (mit /bin/sh) ausführt, nachdem es das Apache-Schnipsel "
      "neu geschrieben oder entfernt hat; leer führt keinen aus" },
    { "plucs/store", REG_STR, "sqlite:/var/lib/plucs/plucs.db", 0, 0, NULL, S,
      "where server-side data lives (offline messages, roster items, archives): sqlite:/absolute/path",
      "wo serverseitige Daten liegen (Offline-Nachrichten, Kontakte, Archive): sqlite:/absoluter/pfad" },
    { "plucs/max_stanza_size", REG_INT, "65536", 1024, 16777216, NULL, 0,
      "largest client stanza in bytes; a larger one closes the stream (policy-violation)",
      "größtes Client-Stanza in Bytes; ein größeres beendet den Stream (policy-violation)" },
    { "plucs/domains", REG_STR, "", 0, 0, NULL, 0,
      "hosted XMPP domains, space separated; empty: those of the host object (xmppDomains)",
      "bediente XMPP-Domänen, durch Leerzeichen getrennt; leer: die des Rechnerobjekts (xmppDomains)" },
    { "plucs/threads", REG_INT, "0", 0, 256, NULL, S,
      "worker threads; 0 means one per CPU core",
      "Arbeits-Threads; 0 bedeutet einer pro CPU-Kern" },
    { "plucs/rundir", REG_PATH, "/run/plucs", 0, 0, NULL, S,
      "folder of the daemon's pid file (plucsd.pid) and control socket (control)",
      "Ordner der PID-Datei (plucsd.pid) und des Steuer-Sockets (control) des Dienstes" },
    { "plucs/roster/scope", REG_ENUM, "domain", 0, 0, "domain,member", 0,
      "shared roster: every XMPP group of the domain, or only the user's own groups",
      "gemeinsame Kontaktliste: alle XMPP-Gruppen der Domäne oder nur die eigenen Gruppen des Benutzers" },
    { "plucs/offline/max", REG_INT, "100", 0, 100000, NULL, 0,
      "messages kept per user while offline (0 disables offline storage)",
      "pro Benutzer gespeicherte Nachrichten, während er offline ist (0 schaltet die Speicherung ab)" },

    /* limits and quotas (docs/security.md) */
    { "plucs/quota/roster", REG_INT, "1000", 0, 1000000, NULL, 0,
      "personal roster items per user; 0 means no limit",
      "persönliche Kontakte pro Benutzer; 0 bedeutet keine Grenze" },
    { "plucs/quota/private", REG_INT, "1048576", 0, 1073741824, NULL, 0,
      "bytes of private XML storage (XEP-0049) per user; 0 means no limit",
      "Bytes privater XML-Ablage (XEP-0049) pro Benutzer; 0 bedeutet keine Grenze" },
    { "plucs/quota/blocklist", REG_INT, "1000", 0, 1000000, NULL, 0,
      "blocked JIDs (XEP-0191) per user; 0 means no limit",
      "blockierte JIDs (XEP-0191) pro Benutzer; 0 bedeutet keine Grenze" },
    { "plucs/c2s/max_per_ip", REG_INT, "100", 0, 1000000, NULL, 0,
      "connections not yet logged in per client IP address (IPv6: per /64); 0 means no limit",
      "noch nicht angemeldete Verbindungen pro Client-IP-Adresse (IPv6: pro /64); 0 bedeutet keine Grenze" },
    { "plucs/c2s/max_preauth", REG_INT, "10000", 0, 1000000, NULL, 0,
      "connections not yet logged in, all addresses together; 0 means no limit",
      "noch nicht angemeldete Verbindungen insgesamt; 0 bedeutet keine Grenze" },
    { "plucs/c2s/max_sessions", REG_INT, "10", 0, 10000, NULL, 0,
      "sessions (resources) per user; a login beyond it ends the user's oldest session; 0 means no limit",
      "Sitzungen (Ressourcen) pro Benutzer; eine weitere Anmeldung beendet die älteste Sitzung; 0 bedeutet keine Grenze" },
    { "plucs/c2s/login_timeout", REG_INT, "60", 5, 3600, NULL, 0,
      "seconds from connecting to a bound resource; a slower client is disconnected",
      "Sekunden vom Verbindungsaufbau bis zur gebundenen Ressource; ein langsamerer Client wird getrennt" },
    { "plucs/http/max_sessions", REG_INT, "10000", 0, 1000000, NULL, 0,
      "BOSH and HTTP-polling sessions, all users together; 0 means no limit",
      "BOSH- und HTTP-Polling-Sitzungen insgesamt; 0 bedeutet keine Grenze" },

    /* administration over XMPP (ad-hoc commands, XEP-0050/XEP-0133) */
    { "plucs/admin/group", REG_STR, "", 0, 0, NULL, 0,
      "the directory group (cn) whose members may use the service administration commands "
      "(announce, message of the day, online users, end sessions); empty: nobody",
      "die Verzeichnisgruppe (cn), deren Mitglieder die Befehle zur Dienstverwaltung nutzen dürfen "
      "(Ankündigung, Nachricht des Tages, angemeldete Benutzer, Sitzungen beenden); leer: niemand" },
};

#undef R
#undef Q
#undef S

const reg_var *reg_vars(size_t *count)
{
    if (count)
        *count = sizeof vars / sizeof vars[0];
    return vars;
}

const reg_var *reg_var_find(const char *key)
{
    if (!key)
        return NULL;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        if (strcmp(vars[i].key, key) == 0)
            return &vars[i];
        size_t n = strlen(vars[i].key);
        if ((vars[i].flags & REG_F_PREFIX) && strncmp(vars[i].key, key, n) == 0 && key[n])
            return &vars[i];
    }
    return NULL;
}

const char *reg_type_name(reg_type t)
{
    switch (t) {
    case REG_BOOL: return "bool";
    case REG_INT: return "int";
    case REG_ENUM: return "enum";
    case REG_STR: return "str";
    case REG_PATH: return "path";
    case REG_URLPATH: return "urlpath";
    }
    return "?";
}

/* ---- computed defaults: computed once, kept in static storage ---- */

static char host_short[256];
static char host_domain[256];
static char lang_default[3];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;
static pthread_once_t domain_once = PTHREAD_ONCE_INIT;
static pthread_once_t lang_once = PTHREAD_ONCE_INIT;

static void compute_host(void)
{
    char name[256] = "";
    if (gethostname(name, sizeof name - 1) != 0 || !name[0])
        snprintf(name, sizeof name, "localhost");
    name[sizeof name - 1] = '\0';
    char *dot = strchr(name, '.');
    if (dot)
        *dot = '\0';
    snprintf(host_short, sizeof host_short, "%s", name);
}

/* The first value of "domain" or "search" in /etc/resolv.conf, if any. */
static int resolv_conf_domain(char *out, size_t len)
{
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (!f)
        return -1;
    char line[512];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        char *save = NULL;
        char *word = strtok_r(line, " \t\r\n", &save);
        if (!word || (strcmp(word, "domain") != 0 && strcmp(word, "search") != 0))
            continue;
        char *val = strtok_r(NULL, " \t\r\n", &save);
        if (val && *val && strcmp(val, ".") != 0) {
            size_t n = strlen(val);
            if (n > 1 && val[n - 1] == '.')
                val[n - 1] = '\0';
            snprintf(out, len, "%s", val);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

static void compute_domain(void)
{
    char name[256] = "";
    if (gethostname(name, sizeof name - 1) == 0 && name[0]) {
        name[sizeof name - 1] = '\0';
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_flags = AI_CANONNAME;
        if (getaddrinfo(name, NULL, &hints, &res) == 0 && res) {
            const char *canon = res->ai_canonname;
            const char *dot = canon ? strchr(canon, '.') : NULL;
            if (dot && dot[1])
                snprintf(host_domain, sizeof host_domain, "%s", dot + 1);
            freeaddrinfo(res);
        }
        if (!host_domain[0]) {
            const char *dot = strchr(name, '.');
            if (dot && dot[1])
                snprintf(host_domain, sizeof host_domain, "%s", dot + 1);
        }
    }
    if (!host_domain[0] && resolv_conf_domain(host_domain, sizeof host_domain) != 0)
        host_domain[0] = '\0';
    if (!host_domain[0])
        snprintf(host_domain, sizeof host_domain, "localdomain");
    size_t n = strlen(host_domain);
    if (n > 1 && host_domain[n - 1] == '.')
        host_domain[n - 1] = '\0';
}

static void compute_lang(void)
{
    /* POSIX precedence: LC_ALL, then LC_MESSAGES, then LANG. */
    const char *names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
    const char *val = NULL;
    for (size_t i = 0; i < 3 && !val; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            val = v;
    }
    if (val && (strncasecmp(val, "de", 2) == 0))
        snprintf(lang_default, sizeof lang_default, "de");
    else
        snprintf(lang_default, sizeof lang_default, "en");
}

const char *reg_default(const reg_var *v)
{
    if (!v)
        return "";
    if (v->def)
        return v->def;
    if (strcmp(v->key, "hostname") == 0) {
        pthread_once(&host_once, compute_host);
        return host_short;
    }
    if (strcmp(v->key, "domainname") == 0) {
        pthread_once(&domain_once, compute_domain);
        return host_domain;
    }
    if (strcmp(v->key, "plucs/language") == 0) {
        pthread_once(&lang_once, compute_lang);
        return lang_default;
    }
    if (strcmp(v->key, "plucs/s2s/certfile") == 0)
        return reg_default(reg_var_find("plucs/certfile"));
    return "";
}
