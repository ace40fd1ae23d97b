#!/usr/bin/python3
"""bench/gen-ldif.py: the directory of `make bench`: N users u00001..uN
(password p00001..), all XMPP-enabled in example.com, in groups g0001.. of 25
members each whose members may message and see each other (their own group
in xmppMessageGroups / xmppPresenceGroups), and the host object
cn=plucs-bench. Passwords are plain text: a throw-away directory.
usage: gen-ldif.py N > FILE"""
import sys

n = int(sys.argv[1])
G = 25
out = sys.stdout
out.write("""dn: dc=example,dc=com
objectClass: top
objectClass: dcObject
objectClass: organization
dc: example
o: Bench

dn: cn=users,dc=example,dc=com
objectClass: top
objectClass: organizationalRole
cn: users

dn: cn=groups,dc=example,dc=com
objectClass: top
objectClass: organizationalRole
cn: groups

dn: cn=computers,dc=example,dc=com
objectClass: top
objectClass: organizationalRole
cn: computers

dn: cn=plucs-bench,cn=computers,dc=example,dc=com
objectClass: top
objectClass: device
objectClass: simpleSecurityObject
objectClass: univentionXMPPHost
cn: plucs-bench
userPassword: plucs-bench-host-secret
xmppDomains: example.com

""")
for i in range(1, n + 1):
    u = "u%05d" % i
    out.write("""dn: uid=%s,cn=users,dc=example,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: univentionXMPPAccount
uid: %s
cn: User %d
sn: %d
gecos: User %d
uidNumber: %d
gidNumber: 5000
homeDirectory: /home/%s
userPassword: p%05d
xmppEnabled: TRUE
xmppDomain: example.com

""" % (u, u, i, i, i, 10000 + i, u, i))
for g in range((n + G - 1) // G):
    name = "g%04d" % (g + 1)
    members = "".join("memberUid: u%05d\n" % i for i in range(g * G + 1, min(n, g * G + G) + 1))
    out.write("""dn: cn=%s,cn=groups,dc=example,dc=com
objectClass: top
objectClass: posixGroup
objectClass: univentionXMPPGroup
cn: %s
gidNumber: %d
xmppEnabled: TRUE
%sxmppMessageGroups: %s
xmppPresenceGroups: %s

""" % (name, name, 20000 + g, members, name, name))
