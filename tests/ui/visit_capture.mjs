// Issue 14's scenario (1) as one run, in the station on the device models (`jemput ui --sim`):
// unlock -> a worklist resident -> consent -> face (its checks) -> ten fingers (the right index
// needs a second attempt; finger 7 is an exception) -> signature (its trace) -> review -> seal ->
// upload to the training kit's hub. Finger 5 and the signature are captured by keyboard alone.
// Screenshots of every step at 1366x768.
// usage: node visit_capture.mjs URL PASSPHRASE SCREENSHOT_DIR
// Prints what the capture pages and the review showed and the packet id, for the test to open
// the packet with the office identity and compare.
import { byKeyboard, check, launch, newPage, reviewShows, shot, smallCaptureTargets, smallTargets } from './lib.mjs';

const [url, passphrase, shots] = process.argv.slice(2);

const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  await page.goto(url);
  // The kit may still be unlocked by an earlier scenario (the lock is the kit's, not a session's).
  if ((await page.getByLabel('Kata sandi kit').count()) > 0) {
    await page.getByLabel('Kata sandi kit').fill(passphrase);
    await page.getByRole('button', { name: 'Buka kunci' }).click();
  }
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();

  const row = page.getByRole('row').filter({ hasText: 'Warga Contoh 3' });
  await row.getByRole('button', { name: 'Kunjungan baru' }).click();
  await page.getByRole('button', { name: 'Mulai kunjungan' }).click();
  await page.getByRole('heading', { level: 1, name: 'Persetujuan' }).waitFor();
  await page.getByRole('button', { name: 'Setuju' }).click();

  // Face.
  await page.getByRole('heading', { level: 1, name: 'Foto wajah' }).waitFor();
  const visit = page.url().match(/\/visit\/([0-9a-f-]{36})\/step\/face$/)[1];
  await page.getByRole('button', { name: 'Ambil foto' }).click();
  await page.getByRole('table', { name: 'Pemeriksaan foto wajah' }).waitFor();
  const checks = await page.locator('table.checks tbody tr').count();
  check(checks >= 5, `every face check shown, saw ${checks}`);
  const faceOk = await page.locator('img.capture-img.face').evaluate((i) => i.complete && i.naturalWidth > 0);
  check(faceOk, 'the face photo shows');
  let s = await smallCaptureTargets(page);
  check(s.length === 0, `touch targets under 44 px on the face step: ${s.join('; ')}`);
  await shot(page, shots, '13-foto-wajah');
  await page.getByRole('link', { name: 'Lanjut' }).click();

  // Ten fingers.
  for (let f = 1; f <= 10; f++) {
    const code = String(f).padStart(2, '0');
    await page.waitForURL(`**/visit/${visit}/step/finger-${code}`);
    if (f === 1) {
      s = await smallCaptureTargets(page);
      check(s.length === 0, `touch targets under 44 px on a finger step: ${s.join('; ')}`);
      await shot(page, shots, '14-jari-01');
    }
    if (f === 3) {
      // Finger 2 before: two attempts, the first asked to capture again.
      const last = page.locator('section.last');
      await last.getByText('ulangi').waitFor();
      await last.getByText('Percobaan 2/').waitFor();
      const images = last.locator('img.attempt-img');
      check((await images.count()) === 2, 'the image of each attempt of finger 2');
      const loaded = await images.evaluateAll((is) => is.every((i) => i.complete && i.naturalWidth > 0));
      check(loaded, 'the attempt images show');
      check((await page.locator('a.finger.retried').count()) === 1, 'the hand marks finger 2 as retried');
      await shot(page, shots, '15-jari-02-diulang');
    }
    if (f === 7) {
      await page.getByLabel('Alasan', { exact: true }).selectOption('bandaged');
      await page.getByRole('radio', { name: 'Permanen' }).check();
      // With a proof photo from the camera.
      await page.getByRole('checkbox', { name: /^Foto bukti/ }).check();
      await shot(page, shots, '16-pengecualian-jari-07');
      await page.getByRole('button', { name: 'Pengecualian' }).click();
    } else if (f === 5) {
      await page.locator('main').focus();
      await byKeyboard(page, 'Ambil sidik jari');
    } else {
      await page.getByRole('button', { name: 'Ambil sidik jari' }).click();
    }
  }

  // Signature, by keyboard.
  await page.getByRole('heading', { level: 1, name: 'Tanda tangan' }).waitFor();
  check((await page.locator('a.finger').count()) === 0, 'no hand on the signature step');
  await page.locator('main').focus();
  await byKeyboard(page, 'Ambil tanda tangan');
  await page.locator('svg.trace polyline').first().waitFor();
  const strokes = await page.locator('svg.trace polyline').count();
  // The signature's score as its step shows it.
  const sigText = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
  const sigScore = /Skor (\d+) \(/.exec(sigText);
  check(sigScore, `the signature step shows its score: ${sigText}`);
  const signatureScore = Number(sigScore[1]);
  await shot(page, shots, '17-tanda-tangan');
  const review = await page.getByRole('link', { name: 'Periksa kunjungan' }).getAttribute('href');
  check(review === `/visit/${visit}/review`, `the visit goes on to its review: ${review}`);

  // The fingers as the hand shows them, read back from the draft.
  await page.goto(`${origin}/visit/${visit}/step/finger-07`);
  const states = await page.locator('a.finger').evaluateAll((els) => els.map((e) => e.className));
  check(states.filter((c) => c.includes('exception')).length === 1, `one exception: ${states}`);
  check(states.filter((c) => c.includes('pending')).length === 0, `no finger left: ${states}`);
  // Each finger's score as the hand shows it ("selesai · 63").
  const kept = {};
  for (const [num, state] of await page.locator('a.finger').evaluateAll((els) =>
    els.map((e) => [e.querySelector('.fnum').textContent.trim(), e.querySelector('.fstate').textContent.trim()]))) {
    const score = / · (\d+)$/.exec(state);
    if (score) kept[num.padStart(2, '0')] = Number(score[1]);
  }
  check(Object.keys(kept).length === 9, `nine fingers with a score on the hand: ${JSON.stringify(kept)}`);
  await shot(page, shots, '18-sepuluh-jari');
  await page.goto(`${origin}/devices`);
  await page.getByRole('heading', { level: 1, name: 'Perangkat' }).waitFor();
  await shot(page, shots, '19-perangkat');

  // Review, seal and upload, in the same run.
  await page.goto(`${origin}/visit/${visit}/review`);
  await page.getByRole('heading', { level: 1, name: 'Periksa kunjungan' }).waitFor();
  const shown = await reviewShows(page);
  // The review shows what the capture pages showed: the score each finger was kept with.
  for (const [code, score] of Object.entries(kept)) {
    check(shown.fingers[code] === score, `finger ${code}: the step showed ${score}, the review ${shown.fingers[code]}`);
  }
  check(shown.signature === signatureScore, `signature: the step showed ${signatureScore}, the review ${shown.signature}`);
  await shot(page, shots, '19a-periksa');
  await page.getByRole('button', { name: 'Segel kunjungan' }).click();
  await page.getByRole('heading', { level: 1, name: 'Kunjungan disegel' }).waitFor();
  const packetId = (await page.locator('#packet-id').innerText()).trim();
  await page.getByRole('button', { name: 'Unggah sekarang' }).click();
  await page.getByRole('heading', { level: 1, name: 'Unggah ke kantor' }).waitFor();
  const result = page.locator('table.results tr').filter({ hasText: packetId });
  await result.waitFor({ timeout: 90000 });
  const receipt = (await result.innerText()).replace(/\s+/g, ' ');
  check(receipt.includes('Diterima kantor'), `upload result: ${receipt}`);
  await shot(page, shots, '19b-unggah');

  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  check(seen.errors.length === 0, `browser console errors: ${seen.errors.join(' | ')}`);
  console.log(JSON.stringify({
    scenario: 'visit_capture', visit, checks, strokes, states, kept, ...shown, packet_id: packetId, receipt,
  }));
} finally {
  await browser.close();
}
