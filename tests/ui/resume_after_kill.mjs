// A visit survives the station being killed mid-visit (a crash, a flat battery): part 1 starts a
// visit and captures the face and fingers 1-3, then the test kills `jemput ui` with SIGKILL;
// part 2, on a new `jemput ui` over the same kit, resumes the visit from the home page at the
// finger where it stopped, with what was taken still there, finishes it (finger 7 an exception),
// reviews and seals it.
// usage: node resume_after_kill.mjs part1 URL PASSPHRASE SCREENSHOT_DIR
//        node resume_after_kill.mjs part2 URL PASSPHRASE SCREENSHOT_DIR VISIT_ID
// Part 1 prints the visit id; part 2 what the review showed and the packet id.
import { check, launch, newPage, reviewShows, shot } from './lib.mjs';

const [part, url, passphrase, shots, visitArg] = process.argv.slice(2);
const RESIDENT = 'Warga Contoh 3';
const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  await page.goto(url);
  await page.getByLabel('Kata sandi kit').fill(passphrase);
  await page.getByRole('button', { name: 'Buka kunci' }).click();
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();

  if (part === 'part1') {
    await page.getByRole('button', { name: `Kunjungan baru: ${RESIDENT}` }).click();
    await page.getByRole('button', { name: 'Mulai kunjungan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Persetujuan' }).waitFor();
    await page.getByRole('button', { name: 'Setuju', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Foto wajah' }).waitFor();
    const visit = page.url().match(/\/visit\/([0-9a-f-]{36})\/step\/face$/)[1];
    await page.getByRole('button', { name: 'Ambil foto' }).click();
    await page.getByRole('table', { name: 'Pemeriksaan foto wajah' }).waitFor();
    await page.getByRole('link', { name: 'Lanjut' }).click();
    for (let f = 1; f <= 3; f++) {
      await page.waitForURL(`**/visit/${visit}/step/finger-0${f}`);
      await page.getByRole('button', { name: 'Ambil sidik jari' }).click();
    }
    await page.waitForURL(`**/visit/${visit}/step/finger-04`);
    await shot(page, shots, 'K1-sebelum-mati');
    check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
    console.log(JSON.stringify({ scenario: 'resume_after_kill', part, visit }));
  } else {
    const visit = visitArg;
    // The visit in progress on the home page, at the finger where it stopped.
    const drafts = page.locator('section[aria-labelledby=h-drafts]');
    const row = drafts.getByRole('row').filter({ hasText: RESIDENT });
    const rowText = (await row.innerText()).replace(/\s+/g, ' ');
    check(rowText.includes('04'), `the home row names finger 04: ${rowText}`);
    await shot(page, shots, 'K2-beranda-setelah-mati');
    await row.getByRole('link', { name: `Lanjutkan: ${RESIDENT}` }).click();
    await page.waitForURL(`**/visit/${visit}/step/finger-04`);
    // What was taken before the kill is still there: the face and fingers 1-3.
    const states = await page.locator('a.finger').evaluateAll((els) => els.map((e) => e.className));
    const taken = states.filter((c) => c.includes('done') || c.includes('retried')).length;
    check(taken === 3, `three fingers already taken on resuming: ${states}`);
    await shot(page, shots, 'K3-dilanjutkan');
    for (let f = 4; f <= 10; f++) {
      const code = String(f).padStart(2, '0');
      await page.waitForURL(`**/visit/${visit}/step/finger-${code}`);
      if (f === 7) {
        await page.getByLabel('Alasan', { exact: true }).selectOption('bandaged');
        await page.getByRole('radio', { name: 'Permanen' }).check();
        await page.getByRole('button', { name: 'Pengecualian' }).click();
      } else {
        await page.getByRole('button', { name: 'Ambil sidik jari' }).click();
      }
    }
    await page.getByRole('heading', { level: 1, name: 'Tanda tangan' }).waitFor();
    await page.getByRole('button', { name: 'Ambil tanda tangan' }).click();
    await page.locator('svg.trace polyline').first().waitFor();
    await page.getByRole('link', { name: 'Periksa' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Periksa kunjungan' }).waitFor();

    const shown = await reviewShows(page);
    await shot(page, shots, 'K4-periksa');
    await page.getByRole('button', { name: 'Segel kunjungan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Kunjungan disegel' }).waitFor();
    const packetId = (await page.locator('#packet-id').innerText()).trim();
    await shot(page, shots, 'K5-disegel');
    check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
    check(seen.errors.length === 0, `browser console errors: ${seen.errors.join(' | ')}`);
    console.log(JSON.stringify({
      scenario: 'resume_after_kill',
      part,
      visit,
      ...shown,
      packet_id: packetId,
    }));
  }
} finally {
  await browser.close();
}
