// The signature drawn live, in real Chromium on the device models at device speed (`jemput ui
// --sim --realtime`): on the signature step of a visit, "Ambil tanda tangan" — while the capture
// request is still running (the page has not been replaced yet, its busy note shows), the live
// trace gains points from the pad's samples; when the capture ends, the kept trace and its score
// show. Screenshots S1 (while signing) and S2 (kept) at 1366x768.
// usage: node signature_live.mjs URL PASSPHRASE SCREENSHOT_DIR VISIT_ID
import { writeFile } from 'node:fs/promises';
import { check, launch, newPage, shot } from './lib.mjs';

const [url, passphrase, shots, visit] = process.argv.slice(2);

// While the capture request runs the browser is navigating (a form POST), and Playwright cannot
// evaluate in the page until the answer comes: the page reports its live trace itself instead.
// This script, added by the test (not the station), logs the live trace's point count whenever it
// changes, with whether the busy note still shows (the page not replaced yet).
function reportLivePoints() {
  let last = -1;
  window.setInterval(() => {
    const svg = document.getElementById('live-trace');
    const note = document.querySelector('.busy-note');
    if (!svg || !note) return;
    const n = [...svg.querySelectorAll('polyline')].reduce((k, l) => k + l.points.numberOfItems, 0);
    if (n !== last) {
      last = n;
      console.log(`live-points ${n} ${note.hidden ? 'idle' : 'capturing'}`);
    }
  }, 50);
}

const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  await page.goto(url);
  if ((await page.getByLabel('Kata sandi kit').count()) > 0) {
    await page.getByLabel('Kata sandi kit').fill(passphrase);
    await page.getByRole('button', { name: 'Buka kunci' }).click();
  }
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();
  await page.addInitScript(reportLivePoints);
  await page.goto(`${origin}/visit/${visit}/step/signature`);
  await page.getByRole('heading', { level: 1, name: 'Tanda tangan' }).waitFor();
  check(await page.locator('#live-trace-box').isHidden(), 'no live trace before the capture');

  // The capture's answer replaces the page when the signature is done; every report of the live
  // trace before that counts.
  const reports = [];
  let replacedAt = null;
  const cdp = await page.context().newCDPSession(page);
  let midShot = null;
  page.on('console', (m) => {
    const r = /^live-points (\d+) (\w+)$/.exec(m.text());
    if (r && replacedAt === null) {
      reports.push([Number(r[1]), r[2]]);
      // A screenshot of the trace being written (straight through the DevTools protocol:
      // Playwright's own screenshot waits for the navigation).
      if (!midShot && Number(r[1]) >= 40 && r[2] === 'capturing') {
        midShot = cdp
          .send('Page.captureScreenshot', { format: 'png' })
          .then((png) => writeFile(`${shots}/S1-tanda-tangan-langsung.png`, Buffer.from(png.data, 'base64')));
      }
    }
  });
  const replaced = page.waitForEvent('framenavigated', { timeout: 90000 }).then(() => {
    replacedAt = reports.length;
  });
  await page.getByRole('button', { name: 'Ambil tanda tangan' }).click({ noWaitAfter: true });
  await replaced;
  check(midShot, `a moment to take the screenshot while signing: ${JSON.stringify(reports)}`);
  await midShot;
  const capturing = reports.filter(([, state]) => state === 'capturing').map(([n]) => n);
  const most = Math.max(0, ...capturing);
  check(most >= 10, `the live trace gained points while the capture ran: ${JSON.stringify(reports)}`);
  // It grew as the resident wrote, not all at once.
  const steps = new Set(capturing.filter((n) => n > 0)).size;
  check(steps >= 3, `the live trace grew in steps: ${JSON.stringify(reports)}`);
  await page.getByRole('heading', { level: 1, name: 'Tanda tangan' }).waitFor();
  await page.locator('svg.trace:not(.live-trace) polyline').first().waitFor();
  const text = (await page.locator('section.shown').innerText()).replace(/\s+/g, ' ');
  check(/Skor \d+ \(/.test(text), `the kept signature's score: ${text}`);
  await shot(page, shots, 'S2-tanda-tangan-disimpan');

  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  check(seen.errors.length === 0, `browser console errors: ${seen.errors.join(' | ')}`);
  console.log(JSON.stringify({ scenario: 'signature_live', visit, most, steps, reports: reports.length }));
} finally {
  await browser.close();
}
