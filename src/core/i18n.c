/* i18n.c: the text table, see i18n.h. */
#include "core/i18n.h"

#include <strings.h>

#include "core/config.h"

static const char *const en[T_COUNT] = {
    [T_SHUTDOWN] = "The server is shutting down.",
    [T_REPLACED] = "Replaced by a new connection with the same resource.",
    [T_TOO_BIG] = "Stanza too large.",
    [T_TOO_DEEP] = "XML nested too deeply.",
    [T_TOO_MANY_AUTH] = "Too many failed login attempts.",
    [T_UNREAD] = "Too much unread data.",
    [T_BIND_FIRST] = "Bind a resource first.",
    [T_BAD_RESOURCE] = "Invalid resource.",
    [T_VERSION] = "Only XMPP 1.0 streams are supported.",
    [T_VCARD_READONLY] = "Your vCard comes from the directory; please ask your administrator to change it.",
    [T_SHARED_ITEM] = "This contact comes from the directory and cannot be changed or removed.",
    [T_POLICY_MESSAGE] = "You are not allowed to send messages to this contact.",
    [T_OFFLINE_FULL] = "The recipient cannot receive more offline messages.",
    [T_ACCOUNT_DISABLED] = "Your account is no longer enabled for chat.",
    [T_HOST_GONE] = "This domain is no longer served here.",
    [T_BLOCKED] = "You have blocked this contact.",
    [T_DIRECTORY_BUSY] = "The user directory cannot be reached right now; please try again later.",
    [T_SEARCH_TITLE] = "User directory search",
    [T_SEARCH_INSTRUCTIONS] = "Fill in one or more fields to find people of your domain; each field matches any part of the value, regardless of case.",
    [T_SEARCH_USER] = "User ID",
    [T_SEARCH_GIVEN] = "Given name",
    [T_SEARCH_FAMILY] = "Family name",
    [T_SEARCH_EMAIL] = "E-mail address",
    [T_SEARCH_JID] = "Chat address",
    [T_SEARCH_TRUNCATED] = "Only the first 50 matches are shown; please refine your search.",
    [T_ROSTER_FULL] = "Your contact list is full; remove a contact before adding another.",
    [T_ROSTER_ITEM_LIMITS] = "The contact's name or a group name is too long, or the contact is in too many groups.",
    [T_PRIVATE_FULL] = "Your private storage on the server is full.",
    [T_BLOCKLIST_FULL] = "Your block list is full; unblock someone before blocking another address.",
    [T_TOO_MANY_SESSIONS] = "You are logged in from too many places at once; this oldest session was ended.",
};

static const char *const de[T_COUNT] = {
    [T_SHUTDOWN] = "Der Server wird heruntergefahren.",
    [T_REPLACED] = "Durch eine neue Verbindung mit derselben Ressource ersetzt.",
    [T_TOO_BIG] = "Nachricht zu groß.",
    [T_TOO_DEEP] = "XML zu tief verschachtelt.",
    [T_TOO_MANY_AUTH] = "Zu viele fehlgeschlagene Anmeldeversuche.",
    [T_UNREAD] = "Zu viele ungelesene Daten.",
    [T_BIND_FIRST] = "Bitte zuerst eine Ressource binden.",
    [T_BAD_RESOURCE] = "Ungültige Ressource.",
    [T_VERSION] = "Nur XMPP-1.0-Streams werden unterstützt.",
    [T_VCARD_READONLY] = "Ihre vCard stammt aus dem Verzeichnis; bitte wenden Sie sich für Änderungen an Ihre Administration.",
    [T_SHARED_ITEM] = "Dieser Kontakt stammt aus dem Verzeichnis und kann nicht geändert oder entfernt werden.",
    [T_POLICY_MESSAGE] = "Sie dürfen diesem Kontakt keine Nachrichten senden.",
    [T_OFFLINE_FULL] = "Der Empfänger kann keine weiteren Offline-Nachrichten empfangen.",
    [T_ACCOUNT_DISABLED] = "Ihr Konto ist nicht mehr für Chat freigeschaltet.",
    [T_HOST_GONE] = "Diese Domäne wird hier nicht mehr bedient.",
    [T_BLOCKED] = "Sie haben diesen Kontakt blockiert.",
    [T_DIRECTORY_BUSY] = "Das Benutzerverzeichnis ist gerade nicht erreichbar; bitte versuchen Sie es später noch einmal.",
    [T_SEARCH_TITLE] = "Suche im Benutzerverzeichnis",
    [T_SEARCH_INSTRUCTIONS] = "Füllen Sie ein oder mehrere Felder aus, um Personen Ihrer Domäne zu finden; jedes Feld passt auf einen beliebigen Teil des Werts, unabhängig von Groß- und Kleinschreibung.",
    [T_SEARCH_USER] = "Benutzername",
    [T_SEARCH_GIVEN] = "Vorname",
    [T_SEARCH_FAMILY] = "Nachname",
    [T_SEARCH_EMAIL] = "E-Mail-Adresse",
    [T_SEARCH_JID] = "Chat-Adresse",
    [T_SEARCH_TRUNCATED] = "Es werden nur die ersten 50 Treffer angezeigt; bitte verfeinern Sie Ihre Suche.",
    [T_ROSTER_FULL] = "Ihre Kontaktliste ist voll; bitte entfernen Sie einen Kontakt, bevor Sie einen weiteren hinzufügen.",
    [T_ROSTER_ITEM_LIMITS] = "Der Name des Kontakts oder ein Gruppenname ist zu lang, oder der Kontakt ist in zu vielen Gruppen.",
    [T_PRIVATE_FULL] = "Ihr privater Speicher auf dem Server ist voll.",
    [T_BLOCKLIST_FULL] = "Ihre Blockierliste ist voll; bitte heben Sie eine Blockierung auf, bevor Sie eine weitere Adresse blockieren.",
    [T_TOO_MANY_SESSIONS] = "Sie sind an zu vielen Orten gleichzeitig angemeldet; diese älteste Sitzung wurde beendet.",
};

static int is_lang(const char *lang, const char *code)
{
    return lang && !strncasecmp(lang, code, 2) && (lang[2] == 0 || lang[2] == '-' || lang[2] == '_');
}

const char *i18n_lang(const char *lang)
{
    if (is_lang(lang, "de"))
        return "de";
    if (is_lang(lang, "en"))
        return "en";
    const config *c = config_current();
    if (c && is_lang(c->language, "de"))
        return "de";
    return "en";
}

const char *i18n(const char *lang, text_id id)
{
    if (id < 0 || id >= T_COUNT)
        return "";
    return *i18n_lang(lang) == 'd' ? de[id] : en[id];
}
