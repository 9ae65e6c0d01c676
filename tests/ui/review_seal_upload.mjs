// A visit filled synthetically (by `jemput visit new --synthetic` on the training kit) is resumed
// from the home page, reviewed, sealed and uploaded to the training kit's hub — the review and
// the seal by keyboard. Also: the worklist's buttons each have their own accessible name, and
// the consent page's answers are on screen without scrolling at 1366x768 and 1024x768.
// usage: node review_seal_upload.mjs URL PASSPHRASE SCREENSHOT_DIR
// Prints what the review showed (resident, each finger's score or exception, the signature's
// score) and the packet id, for the test to compare with the opened packet.
import { check, launch, newPage, reviewShows, shot, smallTargets } from './lib.mjs';

const [url, passphrase, shots] = process.argv.slice(2);
const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  await page.goto(url);
  await page.getByLabel('Kata sandi kit').fill(passphrase);
  await page.getByRole('button', { name: 'Buka kunci' }).click();
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();

  // The worklist's buttons: the same visible words, each its own accessible name.
  const buttons = page.locator('section[aria-labelledby=h-worklist] tbody button');
  const labels = await buttons.evaluateAll((els) => els.map((e) => [e.getAttribute('aria-label'), e.textContent.trim()]));
  check(labels.length >= 2, `worklist buttons: ${JSON.stringify(labels)}`);
  check(labels.every(([, text]) => text === 'Kunjungan baru'), `visible text: ${JSON.stringify(labels)}`);
  check(labels.every(([name]) => name.startsWith('Kunjungan baru: Warga Contoh ')), `names: ${JSON.stringify(labels)}`);
  check(new Set(labels.map(([n]) => n)).size === labels.length, `distinct names: ${JSON.stringify(labels)}`);
  await page.getByRole('button', { name: 'Kunjungan baru: Warga Contoh 3' }).waitFor();
  // The training worklist's notes are in Indonesian.
  const notes = await page.locator('section[aria-labelledby=h-worklist] tbody td:nth-child(4)').allInnerTexts();
  check(notes.length >= 2 && notes.every((n) => n === 'warga contoh sintetis untuk latihan'), `worklist notes: ${JSON.stringify(notes)}`);

  // The consent page's answers without scrolling.
  await page.getByRole('button', { name: 'Kunjungan baru: Warga Contoh 3' }).click();
  await page.getByRole('button', { name: 'Mulai kunjungan' }).click();
  await page.getByRole('heading', { level: 1, name: 'Persetujuan' }).waitFor();
  const consentBottoms = {};
  for (const width of [1366, 1024]) {
    await page.setViewportSize({ width, height: 768 });
    for (const name of ['Setuju', 'Menolak']) {
      const box = await page.getByRole('button', { name, exact: true }).boundingBox();
      check(box && box.y >= 0 && box.y + box.height <= 768, `${name} at ${width}x768: ${JSON.stringify(box)}`);
      consentBottoms[`${name}@${width}`] = Math.round(box.y + box.height);
    }
  }
  // Still on screen with a message above them (family chosen, no name given).
  await page.getByRole('radio', { name: 'Keluarga' }).check();
  await page.getByRole('button', { name: 'Setuju', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Isi nama keluarga atau wali' }).waitFor();
  for (const width of [1366, 1024]) {
    await page.setViewportSize({ width, height: 768 });
    for (const name of ['Setuju', 'Menolak']) {
      const box = await page.getByRole('button', { name, exact: true }).boundingBox();
      check(box && box.y >= 0 && box.y + box.height <= 768, `${name} at ${width}x768 under a message: ${JSON.stringify(box)}`);
      consentBottoms[`${name}@${width}+message`] = Math.round(box.y + box.height);
    }
  }
  await page.setViewportSize({ width: 1366, height: 768 });
  await shot(page, shots, 'R1-persetujuan');

  // Home: the synthetic visit is complete; resume it by keyboard.
  await page.goto(`${origin}/home`);
  const drafts = page.locator('section[aria-labelledby=h-drafts]');
  const row = drafts.getByRole('row').filter({ hasText: 'Warga Contoh 2' });
  await row.getByText('Semua diambil (12/12)').waitFor();
  // The row's links are touch-sized too.
  for (const name of ['Lanjutkan: Warga Contoh 2', 'Periksa: Warga Contoh 2']) {
    const box = await row.getByRole('link', { name }).boundingBox();
    check(box && box.width >= 44 && box.height >= 44, `${name}: ${JSON.stringify(box)}`);
  }
  await row.getByRole('link', { name: 'Periksa: Warga Contoh 2' }).waitFor();
  await drafts.scrollIntoViewIfNeeded();
  await shot(page, shots, 'R2-beranda-lanjutkan');
  const resume = row.getByRole('link', { name: 'Lanjutkan: Warga Contoh 2' });
  await resume.focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Periksa kunjungan' }).waitFor();
  check(/\/visit\/[0-9a-f-]{36}\/review$/.test(page.url()), `review at ${page.url()}`);

  // What the review shows.
  const shown = await reviewShows(page);
  // Every thumbnail came through and decoded.
  const thumbs = await page.locator('img.thumb').evaluateAll((els) => els.map((e) => [e.getAttribute('src'), e.complete && e.naturalWidth > 0]));
  for (const t of await page.locator('img.thumb').all()) await t.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.querySelectorAll('img.thumb')].every((i) => i.complete && i.naturalWidth > 0));
  check(thumbs.length >= 10, `thumbnails: ${JSON.stringify(thumbs)}`);
  // The review's weight: the page and everything it loaded (CSS, htmx, thumbnails), as the
  // browser's own resource timing counts the bodies.
  const reviewLoads = await page.evaluate(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .map((e) => [new URL(e.name).pathname, e.encodedBodySize]));
  const reviewBytes = reviewLoads.reduce((n, [, size]) => n + size, 0);
  const small = await smallTargets(page);
  check(small.length === 0, `targets under 44 px: ${small.join(' | ')}`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, shots, 'R3-periksa');
  await page.locator('#finger-07').scrollIntoViewIfNeeded();
  await shot(page, shots, 'R4-periksa-jari');

  // Seal, by keyboard: Tab until the seal button has focus, then Enter.
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === 'Segel kunjungan');
  }
  check(reached, 'the seal button is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Kunjungan disegel' }).waitFor();
  const packetId = (await page.locator('#packet-id').innerText()).trim();
  check(/^[0-9A-Za-z-]{10,}$/.test(packetId), `packet id ${packetId}`);
  // Measured once: the message names what the check saw, not a second look.
  const smallSealed = await smallTargets(page);
  check(smallSealed.length === 0, `sealed page: targets under 44 px: ${smallSealed.join('; ')}`);
  await shot(page, shots, 'R5-disegel');

  // Upload now: the training hub signs for it.
  await page.getByRole('button', { name: 'Unggah sekarang' }).click();
  await page.getByRole('heading', { level: 1, name: 'Unggah ke kantor' }).waitFor();
  const result = page.locator('table.results tr').filter({ hasText: packetId });
  await result.waitFor({ timeout: 90000 });
  const receipt = (await result.innerText()).replace(/\s+/g, ' ');
  check(receipt.includes('Diterima kantor'), `upload result: ${receipt}`);
  // Measured once: the message names what the check saw, not a second look.
  const smallUpload = await smallTargets(page);
  check(smallUpload.length === 0, `upload page: targets under 44 px: ${smallUpload.join('; ')}`);
  await shot(page, shots, 'R6-unggah');

  // Home: nothing left in progress for the resident, the queue counts it received.
  await page.goto(`${origin}/home`);
  check((await drafts.getByRole('row').filter({ hasText: 'Warga Contoh 2' }).count()) === 0, 'the sealed visit left the visits in progress');

  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  // (The refused consent answer is a 422 on purpose.)
  const errors = seen.errors.filter((e) => !e.includes('status of 422'));
  check(errors.length === 0, `browser console errors: ${errors.join(' | ')}`);
  console.log(JSON.stringify({
    scenario: 'review_seal_upload',
    ...shown,
    packet_id: packetId,
    receipt,
    consent_bottoms: consentBottoms,
    review_bytes: reviewBytes,
    review_loads: reviewLoads,
  }));
} finally {
  await browser.close();
}
