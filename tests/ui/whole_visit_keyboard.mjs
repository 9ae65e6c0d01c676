// A whole visit by keyboard alone, on the device models (`jemput ui --sim`): unlock -> a worklist
// resident -> start -> consent -> face -> ten fingers (the right index retried by the policy,
// finger 7 an exception: reason and permanence chosen with the arrow keys) -> signature -> review
// -> seal -> upload to the training hub. Only Tab, typing, the arrow keys and Enter: every control
// is found by its accessible name as focus moves onto it.
// usage: node whole_visit_keyboard.mjs URL PASSPHRASE SCREENSHOT_DIR
import { check, launch, newPage, shot } from './lib.mjs';

const [url, passphrase, shots] = process.argv.slice(2);
const RESIDENT = 'Warga Contoh 1';

const focused = (page) =>
  page.evaluate(() => {
    const e = document.activeElement;
    return {
      tag: e.tagName.toLowerCase(),
      id: e.id,
      type: e.getAttribute('type') || '',
      name: (e.getAttribute('aria-label') || e.textContent || '').trim().replace(/\s+/g, ' '),
    };
  });

// Tab until `match(focused)` holds (at most `max` presses); fails the scenario otherwise.
async function tabTo(page, what, match, max = 120) {
  for (let i = 0; i < max; i++) {
    if (match(await focused(page))) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`check failed: ${what} not reached by Tab`);
}

// Tab to the button or link named `name`, then Enter.
async function press(page, name) {
  await tabTo(page, `"${name}"`, (f) => (f.tag === 'button' || f.tag === 'a') && f.name === name);
  await page.keyboard.press('Enter');
}

const browser = await launch();
try {
  const { page, seen } = await newPage(browser, url);
  await page.goto(url);
  await tabTo(page, 'the passphrase field', (f) => f.tag === 'input' && f.type === 'password');
  await page.keyboard.type(passphrase);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();

  await press(page, `Kunjungan baru: ${RESIDENT}`);
  await page.getByRole('button', { name: 'Mulai kunjungan' }).waitFor();
  await press(page, 'Mulai kunjungan');
  await page.getByRole('heading', { level: 1, name: 'Persetujuan' }).waitFor();
  await press(page, 'Setuju');

  await page.getByRole('heading', { level: 1, name: 'Foto wajah' }).waitFor();
  const visit = page.url().match(/\/visit\/([0-9a-f-]{36})\/step\/face$/)[1];
  await press(page, 'Ambil foto');
  await page.getByRole('table', { name: 'Pemeriksaan foto wajah' }).waitFor();
  await press(page, 'Lanjut');

  for (let f = 1; f <= 10; f++) {
    const code = String(f).padStart(2, '0');
    await page.waitForURL(`**/visit/${visit}/step/finger-${code}`);
    if (f !== 7) {
      await press(page, 'Ambil sidik jari');
      continue;
    }
    // The exception: the reason with the arrow keys on the focused list, then "Permanen" with
    // the arrow keys in the radio group, then the button.
    await tabTo(page, 'the reason list', (x) => x.tag === 'select' && x.id === 'reason');
    for (let i = 0; i < 12; i++) {
      if ((await page.locator('#reason').inputValue()) === 'bandaged') break;
      await page.keyboard.press('ArrowDown');
    }
    check((await page.locator('#reason').inputValue()) === 'bandaged', 'the reason chosen by keyboard');
    await tabTo(page, 'the permanence', (x) => x.tag === 'input' && x.type === 'radio');
    await page.keyboard.press('ArrowDown');
    const permanence = await page.locator('input[name=permanence]:checked').inputValue();
    check(permanence === 'permanent', `permanence chosen by keyboard: ${permanence}`);
    await shot(page, shots, 'W1-keyboard-pengecualian');
    await press(page, 'Pengecualian');
  }

  await page.getByRole('heading', { level: 1, name: 'Tanda tangan' }).waitFor();
  await press(page, 'Ambil tanda tangan');
  await page.locator('svg.trace polyline').first().waitFor();
  await tabTo(page, '"Periksa …"', (f) => f.tag === 'a' && f.name.startsWith('Periksa'));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Periksa kunjungan' }).waitFor();
  await shot(page, shots, 'W2-keyboard-periksa');
  await press(page, 'Segel kunjungan');
  await page.getByRole('heading', { level: 1, name: 'Kunjungan disegel' }).waitFor();
  const packetId = (await page.locator('#packet-id').innerText()).trim();
  await press(page, 'Unggah sekarang');
  await page.getByRole('heading', { level: 1, name: 'Unggah ke kantor' }).waitFor();
  const result = page.locator('table.results tr').filter({ hasText: packetId });
  await result.waitFor({ timeout: 90000 });
  const receipt = (await result.innerText()).replace(/\s+/g, ' ');
  await shot(page, shots, 'W3-keyboard-unggah');
  check(receipt.includes('Diterima kantor'), `upload result: ${receipt}`);
  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  check(seen.errors.length === 0, `browser console errors: ${seen.errors.join(' | ')}`);
  console.log(JSON.stringify({ scenario: 'whole_visit_keyboard', visit, packet_id: packetId, receipt }));
} finally {
  await browser.close();
}
