// Unlock -> home -> a visit from the worklist up to consent -> lock, by keyboard alone: Tab,
// typing and Enter, each control found by its accessible name. usage: node unlock_keyboard.mjs URL PASSPHRASE SCREENSHOT_DIR
import { check, launch, newPage, shot } from './lib.mjs';

const [url, passphrase, shots] = process.argv.slice(2);

// The focused element: its tag, id and accessible text; and whether a focus ring shows.
const focused = (page) =>
  page.evaluate(() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    return {
      tag: e.tagName.toLowerCase(),
      id: e.id,
      name: (e.getAttribute('aria-label') || e.textContent || '').trim(),
      ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    };
  });

// Tab until the focused control is `want` (by id or accessible text), at most `max` times.
async function tabTo(page, want, max = 12) {
  for (let i = 0; i < max; i++) {
    const f = await focused(page);
    if (f.id === want || f.name === want) return f;
    await page.keyboard.press('Tab');
  }
  throw new Error(`check failed: "${want}" not reached by Tab`);
}

const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  await page.goto(url);
  await page.getByRole('heading', { level: 1, name: 'Buka kunci kit' }).waitFor();
  await tabTo(page, 'passphrase');
  await page.keyboard.type(passphrase);
  await page.keyboard.press('Tab');
  const button = await focused(page);
  check(button.tag === 'button' && button.name === 'Buka kunci', `Tab after the passphrase reaches ${JSON.stringify(button)}`);
  check(button.ring, 'the focused button shows a focus ring');
  await shot(page, shots, '05-keyboard-buka-kunci');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();
  check(page.url() === `${origin}/home`, `unlocked by keyboard to ${page.url()}`);

  // From the top of home: the skip link first, then the frame's buttons.
  await page.keyboard.press('Tab');
  const skip = await focused(page);
  check(skip.name === 'Langsung ke isi', `first Tab on home reaches ${JSON.stringify(skip)}`);
  // A visit from the worklist by keyboard: Tab to the second resident's "Kunjungan baru",
  // Enter; the form is filled from the entry: Tab to "Mulai kunjungan", Enter; consent by the
  // resident (the default): Tab to "Setuju", Enter; then back home by its link.
  const rowButton = page
    .getByRole('row')
    .filter({ hasText: 'Warga Contoh 2' })
    .getByRole('button', { name: 'Kunjungan baru' });
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await rowButton.evaluate((b) => b === document.activeElement);
  }
  check(reached, 'Tab reaches the worklist row\'s "Kunjungan baru"');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Kunjungan baru' }).waitFor();
  const start = await tabTo(page, 'Mulai kunjungan', 30);
  check(start.ring, 'the focused "Mulai kunjungan" shows a focus ring');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Persetujuan' }).waitFor();
  await tabTo(page, 'Setuju', 30);
  await page.keyboard.press('Enter');
  // Consent recorded: the visit goes on to its face photo; leave it as a draft for now.
  await page.getByRole('heading', { level: 1, name: 'Foto wajah' }).waitFor();
  await tabTo(page, 'Tinggalkan kunjungan (tersimpan sebagai draf)', 60);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();
  await page
    .locator('section[aria-labelledby=h-drafts]')
    .getByRole('row')
    .filter({ hasText: 'Warga Contoh 2' })
    .waitFor();

  const lock = await tabTo(page, 'Kunci');
  check(lock.tag === 'button' && lock.ring, `the lock button takes focus with a ring: ${JSON.stringify(lock)}`);
  await shot(page, shots, '06-keyboard-beranda');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Buka kunci kit' }).waitFor();

  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  check(seen.errors.length === 0, `browser console errors: ${seen.errors.join(' | ')}`);
  console.log(JSON.stringify({ scenario: 'unlock_keyboard', total_bytes: seen.bytes }));
} finally {
  await browser.close();
}
