/* i18n.h: every human-readable text PLUCS itself sends to clients, in
 * English and German (plucs/language picks the server's language; a
 * client's xml:lang wins where a translation exists). A table, not gettext:
 * the texts are few and this keeps them next to each other for translators. */
#ifndef PLUCS_I18N_H
#define PLUCS_I18N_H

typedef enum {
    T_SHUTDOWN,
    T_REPLACED,
    T_TOO_BIG,
    T_TOO_DEEP,
    T_TOO_MANY_AUTH,
    T_UNREAD,
    T_BIND_FIRST,
    T_BAD_RESOURCE,
    T_VERSION,
    T_VCARD_READONLY,
    T_SHARED_ITEM,
    T_POLICY_MESSAGE,
    T_OFFLINE_FULL,
    T_ACCOUNT_DISABLED,
    T_HOST_GONE,
    T_BLOCKED,
    T_DIRECTORY_BUSY,
    T_SEARCH_TITLE,
    T_SEARCH_INSTRUCTIONS,
    T_SEARCH_USER,
    T_SEARCH_GIVEN,
    T_SEARCH_FAMILY,
    T_SEARCH_EMAIL,
    T_SEARCH_JID,
    T_SEARCH_TRUNCATED,
    T_ROSTER_FULL,
    T_ROSTER_ITEM_LIMITS,
    T_PRIVATE_FULL,
    T_BLOCKLIST_FULL,
    T_TOO_MANY_SESSIONS,
    T_COUNT
} text_id;

/* The text in lang ("de", "de-AT", "en"...; NULL or unknown: the server's
 * plucs/language, else English). Static storage. */
const char *i18n(const char *lang, text_id id);
/* The language i18n() used for lang (for the xml:lang attribute). */
const char *i18n_lang(const char *lang);

#endif
