// converse_avatar.mjs: Converse.js in Debian's Chromium (playwright-core)
// logs in, opens the chat with PEER and reports every avatar image it
// shows, for tests/integration/test_web_browser_avatar.py: one line
// "AVATAR data:..." per new data: URI found in an <img src> or SVG <image
// href> of the page (checked every 250 ms). A line on stdin ends the
// watching; then the page takes a screenshot ("SCREENSHOT path") and exits.
// usage: node converse_avatar.mjs URL PEER SCREENSHOT
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const [url, peer, shot] = process.argv.slice(2);
let stop = false;
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', () => { stop = true; });
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
    page.on('pageerror', (e) => console.log('page error: ' + e.message));
    await page.goto(url);
    await page.waitForFunction(() => window.plucs && window.plucs.connected, null, { timeout: 30000 });
    console.log('LOGGED_IN');
    await page.evaluate((j) => window.plucs.api.chats.open(j, {}, true), peer);
    const seen = new Set();
    const end = Date.now() + 120000;
    while (!stop && Date.now() < end) {
        const uris = await page.evaluate(() => {
            const out = [];
            for (const el of document.querySelectorAll('img, image')) {
                for (const v of [el.getAttribute('src'), el.getAttribute('href'),
                                 el.getAttribute('xlink:href')])
                    if (v && v.startsWith('data:')) out.push(v.replace(/\s+/g, ''));
            }
            return out;
        });
        for (const u of uris)
            if (!seen.has(u)) {
                seen.add(u);
                console.log('AVATAR ' + u);
            }
        await new Promise((r) => setTimeout(r, 250));
    }
    await page.screenshot({ path: shot });
    console.log('SCREENSHOT ' + shot);
    ok = true;
} catch (e) {
    console.log('FAILED ' + (e && e.message ? e.message.split('\n')[0] : e));
} finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
}
lines.close();
process.exit(ok ? 0 : 1);
