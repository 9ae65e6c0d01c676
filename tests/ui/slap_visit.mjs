// A visit's fingers 4-4-2 in the station with an SBI slap scanner (`jemput ui --scanner sbi:…`,
// run by tests/station_slaps.rs against `jemput sbi serve --sim --sim-poor-finger 2`): unlock ->
// the visit (consent given) -> face from the SBI camera -> the left slap, with finger 9 marked
// missing first, finger 10 marked missing with a proof photo and then un-marked, and the slap
// taken (finger 9 and the slap by keyboard alone), then finger 8 retaken alone -> the right slap (the poor right index
// retried and kept forced) -> the two thumbs, their page also in English -> the signature as an
// exception (no pad) -> review -> seal. Screenshots at 1366x768.
// usage: node slap_visit.mjs URL PASSPHRASE VISIT_ID SCREENSHOT_DIR
// Prints what each finger's result showed (jemput's score, its text, its attempts), how many
// attempts arrived live while a slap ran, and the packet id.
import { byKeyboard, check, launch, newPage, shot, smallCaptureTargets } from './lib.mjs';

const [url, passphrase, visit, shots] = process.argv.slice(2);

const scores = {};
const texts = {};
const attempts = {};

// What the page shows of each finger of the slap on it.
async function results(page, codes) {
  for (const code of codes) {
    const box = page.locator(`#finger-${code}`);
    const text = (await box.innerText()).replace(/\s+/g, ' ');
    texts[code] = text;
    const score = /Skor (\d+)/.exec(text);
    if (score) scores[code] = Number(score[1]);
    attempts[code] = await page.locator(`#live-finger-${code} li`).count();
  }
}

// Every finger of `codes` shows its kept image.
async function imagesShow(page, codes) {
  for (const code of codes) {
    const sel = `#finger-${code} img.capture-img`;
    await page.locator(sel).waitFor();
    // Decoded from the draft's WSQ: a broken image never gets a width, and the wait fails.
    const ok = await page
      .waitForFunction((s) => {
        const i = document.querySelector(s);
        return i && i.complete && i.naturalWidth > 0;
      }, sel, { timeout: 20000 })
      .then(() => true, () => false);
    check(ok, `finger ${code}'s image shows`);
  }
}

// Counts the attempts the page adds while the slap runs (before the page comes back).
async function watchLive(page) {
  await page.evaluate(() => {
    const root = document.querySelector('ol.slap-fingers');
    new MutationObserver((m) => {
      for (const r of m) if (r.addedNodes.length) window.liveSeen(r.target.id);
    }).observe(root, { subtree: true, childList: true });
  });
}

const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  let live = 0;
  await page.exposeFunction('liveSeen', (id) => {
    if (id.startsWith('live-finger-')) live += 1;
  });
  await page.goto(url);
  await page.getByRole('heading', { level: 1, name: 'Buka kunci kit' }).waitFor();
  await page.getByLabel('Kata sandi').fill(passphrase);
  await page.getByRole('button', { name: 'Buka kunci' }).click();
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();

  // The face, from the SBI camera.
  await page.goto(`${origin}/visit/${visit}`);
  await page.getByRole('heading', { level: 1, name: 'Foto wajah' }).waitFor();
  await page.getByRole('button', { name: 'Ambil foto' }).click();
  await page.locator('img.capture-img.face').waitFor();
  // The fingers count as three slaps: face, three slaps, signature.
  const progress = await page.locator('.step-head .sub').innerText();
  check(progress.includes('1 dari 5 selesai'), `progress by slap: ${progress}`);
  await page.getByRole('link', { name: 'Lanjut' }).click();

  // The left slap first (the 4-4-2 order), though finger 1 comes first in the visit.
  await page.waitForURL(`**/visit/${visit}/slap/left`);
  await page.getByRole('heading', { level: 1, name: 'Slap kiri: empat jari tangan kiri' }).waitFor();
  const nav = await page.locator('ol.slaps a').allInnerTexts();
  check(nav.length === 3 && nav[0].includes('Slap kiri') && nav[1].includes('Slap kanan') && nav[2].includes('Dua ibu jari'),
    `the three slaps in order: ${JSON.stringify(nav)}`);
  const current = await page.locator('ol.slaps a[aria-current=step]').innerText();
  check(current.includes('Slap kiri'), `the left slap is the current step: ${current}`);
  let small = await smallCaptureTargets(page);
  check(small.length === 0, `touch targets under 44 px on the slap page: ${small.join('; ')}`);
  await shot(page, shots, '40-slap-kiri');

  // Marking a finger missing without a reason records nothing and stays on the slap.
  await page.locator('#finger-08 summary').click();
  await page.locator('#finger-08').getByRole('button', { name: 'Tandai tidak ada' }).click();
  await page.getByRole('heading', { level: 1, name: 'Slap kiri: empat jari tangan kiri' }).waitFor();
  const alert = await page.getByRole('alert').innerText();
  check(alert.includes('Pilih alasan pengecualian'), `a reason is asked for: ${alert}`);
  check((await page.locator('#place-08.asked').count()) === 1, 'finger 8 still asked for');

  // Finger 9 marked missing by keyboard alone: open its form, choose the reason by typing,
  // permanent with the arrow key, and the button.
  await page.locator('#finger-09 summary').focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  check(await page.locator('#reason-09').evaluate((e) => e === document.activeElement), 'Tab reaches the reason');
  await page.keyboard.type('Diam');
  check((await page.locator('#reason-09').inputValue()) === 'amputated', 'the reason chosen by typing');
  await page.keyboard.press('Tab'); // the other reason's text
  await page.keyboard.press('Tab'); // temporary
  await page.keyboard.press('ArrowDown'); // permanent
  await byKeyboard(page, 'Tandai tidak ada', 6);
  await page.waitForURL(`**/visit/${visit}/slap/left`);
  await page.locator('#place-09.missing').waitFor();
  const place = await page.locator('#place-09').innerText();
  check(place.includes('ditandai tidak ada') && place.includes('Diamputasi'), `finger 9 marked missing: ${place}`);
  check((await page.locator('#place-07.asked').count()) === 1, 'finger 7 still asked for');
  check((await page.locator('#finger-09 .notice').innerText()).includes('Permanen'), 'the exception is permanent');

  // Finger 10 marked missing (bandaged) with a proof photo from the SBI camera, then un-marked:
  // its exception and the photo are gone, and the slap asks the device for it again.
  await page.locator('#finger-10 summary').click();
  await page.locator('#reason-10').selectOption('bandaged');
  const proofBox = page.locator('#finger-10').getByLabel('Foto bukti (ambil foto dengan kamera)');
  await proofBox.check();
  check(await proofBox.isChecked(), 'the proof-photo box is ticked');
  await page.locator('#finger-10').getByRole('button', { name: 'Tandai tidak ada' }).click();
  await page.waitForURL(`**/visit/${visit}/slap/left`);
  await page.locator('#place-10.missing').waitFor();
  const proofOk = await page
    .waitForFunction(() => {
      const i = document.querySelector('#finger-10 img.capture-img.proof');
      return i && i.complete && i.naturalWidth > 0;
    }, null, { timeout: 20000 })
    .then(() => true, () => false);
  check(proofOk, "finger 10's proof photo shows");
  check((await page.locator('#finger-10 .notice').innerText()).includes('Diperban'), 'finger 10 bandaged');
  await shot(page, shots, '40b-jari-10-bukti', true);
  const withdraw = page.locator('#withdraw-10');
  check((await withdraw.innerText()).includes('Batalkan tanda tidak ada'), `the un-mark button: ${await withdraw.innerText()}`);
  check((await page.locator('#withdraw-09').count()) === 1, 'finger 9 can be un-marked too');
  check((await page.locator('#withdraw-07').count()) === 0, 'no un-mark for a finger not marked');
  await withdraw.click();
  await page.waitForURL(`**/visit/${visit}/slap/left`);
  await page.locator('#place-10.asked').waitFor();
  check((await page.locator('#finger-10 img.capture-img.proof').count()) === 0, "finger 10's proof photo gone");
  check((await page.locator('#finger-10 .notice').count()) === 0, "finger 10's exception gone");
  check((await page.locator('#place-09.missing').count()) === 1, 'finger 9 still missing');

  // The left slap, by keyboard: Tab to "Ambil slap", Enter.
  await watchLive(page);
  await byKeyboard(page, 'Ambil slap');
  await imagesShow(page, ['07', '08', '10']);
  await page.getByRole('heading', { level: 1, name: 'Slap kiri: empat jari tangan kiri' }).waitFor();
  await results(page, ['07', '08', '09', '10']);
  check((await page.locator('#finger-09 img.capture-img').count()) === 0, 'no image for the missing finger');
  await shot(page, shots, '41-slap-kiri-hasil', true);

  // "Ambil ulang jari ini": finger 8 alone, the left slap's other fingers kept as they are.
  const score07 = await page.locator('#finger-07 .finger-score').innerText();
  const retake = page.locator('#retake-08');
  check((await retake.innerText()).includes('Ambil ulang jari ini'), `the retake button: ${await retake.innerText()}`);
  check((await page.locator('#retake-09').count()) === 0, 'no retake for a finger marked missing');
  await retake.click();
  await page.waitForURL(`**/visit/${visit}/slap/left`);
  await imagesShow(page, ['07', '08', '10']);
  check((await page.locator('#live-finger-08 li').count()) === 1, 'finger 8 taken once more');
  check((await page.locator('#live-finger-07 li').count()) === 1, "finger 7's attempt still shown");
  check((await page.locator('#finger-07 .finger-score').innerText()) === score07, 'finger 7 kept as it was');
  check((await page.locator('#place-09.missing').count()) === 1, 'finger 9 still missing');
  await results(page, ['07', '08', '09', '10']);
  await page.locator('#slap-next').click();

  // The right slap: its index reads poorly, so it is taken again alone and kept forced.
  await page.waitForURL(`**/visit/${visit}/slap/right`);
  await watchLive(page);
  await page.getByRole('button', { name: 'Ambil slap' }).click();
  await imagesShow(page, ['02', '03', '04', '05']);
  await results(page, ['02', '03', '04', '05']);
  check(texts['02'].includes('Disimpan paksa'), `finger 2 flagged: ${texts['02']}`);
  check((await page.locator('#finger-02.state-forced').count()) === 1, 'finger 2 shown as forced');
  const retryImages = await page.locator('#live-finger-02 img.attempt-img').count();
  check(retryImages === 3, `an image of each of finger 2's attempts, saw ${retryImages}`);
  await shot(page, shots, '42-slap-kanan-diulang');
  await page.locator('#slap-next').click();

  // The two thumbs, then on to the signature.
  await page.waitForURL(`**/visit/${visit}/slap/thumbs`);
  await watchLive(page);
  await page.getByRole('button', { name: 'Ambil slap' }).click();
  await imagesShow(page, ['01', '06']);
  await results(page, ['01', '06']);
  const done = await page.locator('ol.slaps a.done').count();
  check(done === 3, `every slap done, saw ${done}`);
  await shot(page, shots, '43-dua-ibu-jari');

  // The same slap page in English (the language switch comes back to it), then Indonesian again.
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Two thumbs' }).waitFor();
  await page.waitForURL(`**/visit/${visit}/slap/thumbs`);
  check((await page.getAttribute('html', 'lang')) === 'en', 'html lang is en');
  const navEn = await page.locator('ol.slaps a').allInnerTexts();
  check(navEn[0].includes('Left slap: the four fingers of the left hand') && navEn[0].includes('done'),
    `the slaps in English: ${JSON.stringify(navEn)}`);
  for (const [sel, want] of [
    ['#h-slaps', 'Fingerprints by slap (4-4-2)'],
    ['#h-shown', 'Result by finger'],
    ['#h-place', 'Fingers to place'],
    ['.slap-place', 'Place both thumbs together on the scanner, then press "Capture slap".'],
    ['#finger-01', 'device score 85.0'],
    ['#finger-01', 'Score '],
    ['#finger-06 summary', 'Mark left thumb missing (exception)'],
    ['.step-head .sub', '4 of 5 done'],
  ]) {
    const text = (await page.locator(sel).first().innerText()).replace(/\s+/g, ' ');
    check(text.includes(want), `${sel} in English: ${want} not in ${text}`);
  }
  check((await page.getByRole('button', { name: 'Capture slap' }).count()) === 1, 'the capture button in English');
  check((await page.locator('#finger-01 .tag').innerText()) === 'done', 'the finger state in English');
  small = await smallCaptureTargets(page);
  check(small.length === 0, `touch targets under 44 px on the English slap page: ${small.join('; ')}`);
  await shot(page, shots, '43b-two-thumbs-en', true);
  await page.getByRole('button', { name: 'Bahasa Indonesia' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dua ibu jari' }).waitFor();
  await page.locator('#slap-next').click();

  // No signature pad: the signature as an exception, then the review.
  await page.getByRole('heading', { level: 1, name: 'Tanda tangan' }).waitFor();
  await page.locator('#reason').selectOption('unable_to_sign');
  await page.getByRole('button', { name: 'Pengecualian' }).click();
  await page.getByRole('heading', { level: 1, name: 'Periksa kunjungan' }).waitFor();
  const row = (await page.locator('#finger-09').innerText()).replace(/\s+/g, ' ');
  check(/diamputasi/i.test(row), `the review shows finger 9's exception: ${row}`);
  await shot(page, shots, '44-periksa-slap');
  await page.getByRole('button', { name: 'Segel kunjungan' }).click();
  await page.getByRole('heading', { level: 1, name: 'Kunjungan disegel' }).waitFor();
  const packetId = (await page.locator('#packet-id').innerText()).trim();

  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  check(seen.errors.length === 0, `browser console errors: ${seen.errors.join(' | ')}`);
  console.log(JSON.stringify({ scenario: 'slap_visit', visit, scores, texts, attempts, live, packet_id: packetId }));
} finally {
  await browser.close();
}
