/* policy.h: the router's policy stage (plucs/mod/filter, directory.md
 * "Communication restrictions"). Every message and presence between two
 * local accounts, or between an account and a remote party (federation:
 * a user in no group), passes here before delivery or before it leaves; the check is two binary
 * searches and one bit test in the snapshot's compiled matrices. The stage
 * only judges (and counts and logs a refusal); the router acts on the
 * verdict, bouncing a refused message to its sender. */
#ifndef PLUCS_POLICY_H
#define PLUCS_POLICY_H

#include "directory/directory.h"
#include "router/session.h"
#include "xml/xml.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

typedef enum policy_verdict {
    POLICY_ALLOW = 0,
    POLICY_REFUSE,    /* a message: answer the sender with policy-violation */
    POLICY_DROP,      /* presence (never answered: it would leak), or an error stanza */
} policy_verdict;

/* The verdict for st (addressed to `to`: a local JID, or a remote one when
 * st leaves through federation). origin is the client
 * session that sent st, or NULL (server-generated, or rerouted): when its
 * full JID is st's 'from', its prepared parts are used instead of parsing
 * 'from' again. Pure apart from the refusal counter and the rate-limited
 * log line. */
policy_verdict policy_check(const dir_snapshot *snap, const xnode *st, stanza_kind kind,
                            const jid *to, const session *origin);

#endif
