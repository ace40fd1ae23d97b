// converse_test.mjs: drives Debian's Chromium (playwright-core) through one
// Converse.js session for tests/integration/test_web_browser.py. Prints one
// line per milestone on stdout (VERSIONS, LOGGED_IN, RECEIVED, REPLIED,
// SCREENSHOT path) so the Python side can act between them; after REPLIED it
// keeps the page open until the Python side writes a line on stdin (the
// answer reached the other client), then takes the screenshot. Exits
// non-zero with the reason on failure.
// usage: node converse_test.mjs URL PEER GREETING REPLY SCREENSHOT [room NICK | mam | upload]
// With `upload`, the page opens the chat with PEER and sends a file through
// the chat toolbar's file button (XEP-0363 HTTP upload): GREETING is the file
// name, REPLY its text; SENT once the file is chosen, UPLOADED once the chat
// shows the message with the file's URL.
// With `room NICK`, PEER is a group chat: the page joins it as NICK, RECEIVED
// means every '|'-separated part of GREETING (the room's history) is shown
// in the room, and REPLY is sent to the room as a groupchat message.
// With `mam`, after the go-ahead the page forgets everything it stored
// (local and session storage, IndexedDB), reloads, logs in again and opens
// the chat with PEER: HISTORY means GREETING and REPLY are shown again, which
// only the server's message archive (XEP-0313) can have given it.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

// Resolves with the next line on stdin, or rejects after ms.
const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
lines.on('line', (l) => { const w = waiting.shift(); if (w) w(l); });
function nextLine(ms) {
    return new Promise((resolve, reject) => {
        waiting.push(resolve);
        setTimeout(() => reject(new Error('no go-ahead on stdin')), ms);
    });
}

const [url, peer, greeting, reply, shot, mode, nick] = process.argv.slice(2);
const inRoom = mode === 'room';
const fromArchive = mode === 'mam';
const upload = mode === 'upload';
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'plucs-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 800 },
});
let ok = false;
let page;
try {
    page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.log('console error: ' + m.text()); });
    page.on('pageerror', (e) => console.log('page error: ' + e.message));
    await page.goto(url);
    const converseVersion = JSON.parse(fs.readFileSync(
        new URL('./node_modules/converse.js/package.json', import.meta.url))).version;
    const ua = await page.evaluate(() => navigator.userAgent);
    console.log(`VERSIONS converse.js=${converseVersion} chromium=${(ua.match(/Chrome\/([\d.]+)/) || [])[1]}`);
    await page.waitForFunction(() => window.plucs && window.plucs.connected, null, { timeout: 30000 });
    console.log('LOGGED_IN');
    if (upload) {
        await page.evaluate((j) => window.plucs.api.chats.open(j, {}, true), peer);
        const input = page.locator('.chat-toolbar input.fileupload').first();
        await input.waitFor({ state: 'attached', timeout: 30000 });
        await input.setInputFiles({ name: greeting, mimeType: 'text/plain',
                                    buffer: Buffer.from(reply) });
        console.log('SENT');
        await page.waitForFunction(() => [...document.querySelectorAll('.chat-msg__text a, .chat-msg a')]
            .some((a) => a.href.includes('/upload/')), null, { timeout: 30000 });
        console.log('UPLOADED');
    } else if (inRoom) {
        // Join the room the way the bookmark / "join" dialog does; its
        // history must appear without anyone sending anything new.
        await page.evaluate(([j, n]) => window.plucs.api.rooms.open(j, { nick: n }, true),
                            [peer, nick]);
        for (const h of greeting.split('|'))
            await page.getByText(h).first().waitFor({ timeout: 30000 });
        console.log('RECEIVED');
    } else {
        await page.waitForFunction((g) => window.plucs.received.includes(g), greeting,
                                   { timeout: 30000 });
        console.log('RECEIVED');
        // The message is shown in the chat with the peer...
        await page.evaluate((j) => window.plucs.api.chats.open(j, {}, true), peer);
        await page.getByText(greeting).first().waitFor({ timeout: 15000 });
    }
    if (!upload) {
        // ...and answered the way a person does: type, press Enter.
        const box = page.locator('textarea.chat-textarea').first();
        await box.waitFor({ timeout: 15000 });
        await box.fill(reply);
        await box.press('Enter');
        await page.getByText(reply).first().waitFor({ timeout: 15000 });
        console.log('REPLIED');
    }
    await nextLine(60000);   /* the answer arrived over XMPP: keep the page until then */
    if (fromArchive) {
        await page.evaluate(async () => {
            localStorage.clear();
            sessionStorage.clear();
            const dbs = indexedDB.databases ? await indexedDB.databases() : [];
            await Promise.all(dbs.map((d) => new Promise((ok) => {
                const r = indexedDB.deleteDatabase(d.name);
                r.onsuccess = r.onerror = r.onblocked = () => ok();
            })));
        });
        await page.reload();
        await page.waitForFunction(() => window.plucs && window.plucs.connected, null,
                                   { timeout: 30000 });
        console.log('LOGGED_IN again');
        await page.evaluate((j) => window.plucs.api.chats.open(j, {}, true), peer);
        await page.getByText(greeting).first().waitFor({ timeout: 30000 });
        await page.getByText(reply).first().waitFor({ timeout: 30000 });
        console.log('HISTORY');
    }
    await page.screenshot({ path: shot });
    console.log('SCREENSHOT ' + shot);
    ok = true;
} catch (e) {
    console.log('FAILED ' + (e && e.message ? e.message.split('\n')[0] : e));
    // what the page showed: a screenshot and its text, for the report
    try {
        await page.screenshot({ path: shot.replace(/\.png$/, '') + '-failed.png' });
        const text = await page.evaluate(() => document.body.innerText);
        console.log('PAGE TEXT ' + text.replace(/\s+/g, ' ').slice(0, 1500));
    } catch (e2) { console.log("no screenshot: " + e2.message.split("\n")[0]); }
} finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
}
lines.close();
process.exit(ok ? 0 : 1);
