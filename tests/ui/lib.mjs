// Shared by the station's browser scenarios (run by tests/station_ui.rs): Debian's Chromium
// driven by playwright-core (never a downloaded browser), a 1366x768 page, a check that fails
// the scenario with a message, and the page's weight and any request leaving the station.
import { chromium } from 'playwright-core';

export const VIEWPORT = { width: 1366, height: 768 };

export function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

export async function launch() {
  const executablePath = process.env.JEMPUT_CHROMIUM || '/usr/bin/chromium';
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

// A new browser session (its own cookie jar) on a 1366x768 page that records every response's
// size and every request to another origin.
export async function newPage(browser, url) {
  const origin = new URL(url).origin;
  const context = await browser.newContext({ viewport: VIEWPORT, locale: 'id-ID' });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  const seen = { bytes: 0, external: [], errors: [] };
  page.on('request', (r) => {
    if (!r.url().startsWith(origin + '/')) seen.external.push(r.url());
  });
  page.on('response', async (r) => {
    try {
      seen.bytes += (await r.body()).length;
    } catch {
      // a redirect has no body
    }
  });
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  return { context, page, seen, origin };
}

// Buttons and fields smaller than 44x44 CSS pixels (WCAG 2.5.5 target size).
export async function smallTargets(page) {
  // The station answers everything `no-store`, its stylesheet included, so each page fetches the
  // CSS again; a page measured before it arrives shows the browser's default (small) controls. It
  // happened under CI load right after "Kunjungan disegel" appeared: wait for the load event, which
  // waits for the stylesheet.
  await page.waitForLoadState('load');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('link[rel=stylesheet]')].every((l) => l.sheet !== null));
  return page.$$eval('button, input:not([type=hidden]), select', (els) =>
    els
      .map((e) => ({ e, r: e.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && (r.width < 44 || r.height < 44))
      .map(({ e, r }) => `${e.outerHTML.slice(0, 60)} ${r.width}x${r.height}`),
  );
}

export const focusedName = (page) =>
  page.evaluate(() => {
    const e = document.activeElement;
    return { tag: e.tagName.toLowerCase(), name: (e.getAttribute('aria-label') || e.textContent || '').trim() };
  });

// Tab until the focused button is `want`, then press Enter.
export async function byKeyboard(page, want, max = 80) {
  for (let i = 0; i < max; i++) {
    const f = await focusedName(page);
    if (f.tag === 'button' && f.name === want) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error(`check failed: "${want}" not reached by Tab`);
}

// Touch targets under 44 px, radio buttons and check boxes aside (their whole label row, 44 px
// high, is the target).
export async function smallCaptureTargets(page) {
  const s = await smallTargets(page);
  const links = await page.$$eval('a.finger, a.slap-link, a.button-link', (els) =>
    els
      .map((e) => ({ e, r: e.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && (r.width < 44 || r.height < 44))
      .map(({ e, r }) => `${e.outerHTML.slice(0, 60)} ${r.width}x${r.height}`),
  );
  return s.filter((t) => !t.includes('type="radio"') && !t.includes('type="checkbox"')).concat(links);
}

export async function shot(page, dir, name, fullPage = false) {
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage });
}

// What the review page (`/visit/ID/review`, open in `page`) shows, for the test to compare with
// the packet opened at the office: the resident's name, each finger's score (or, for a finger
// with no score, the row's text, e.g. its exception) and its attempts, and the signature's score.
export async function reviewShows(page) {
  const fingers = {};
  const attempts = {};
  for (let n = 1; n <= 10; n++) {
    const code = String(n).padStart(2, '0');
    const text = (await page.locator(`#finger-${code}`).innerText()).replace(/\s+/g, ' ');
    const score = /Skor (\d+)/.exec(text);
    fingers[code] = score ? Number(score[1]) : text;
    const tries = /(\d+) percobaan/.exec(text);
    if (tries) attempts[code] = Number(tries[1]);
  }
  const signature = /Skor (\d+)/.exec(await page.locator('section[aria-labelledby=h-signature]').innerText());
  const resident = (await page.locator('#h-resident').innerText()).trim();
  return { resident, fingers, attempts, signature: signature ? Number(signature[1]) : null };
}
