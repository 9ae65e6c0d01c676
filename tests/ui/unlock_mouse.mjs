// Unlock -> home with the mouse, as an operator on a 1366x768 laptop would, in Indonesian and
// then English; then lock. usage: node unlock_mouse.mjs URL PASSPHRASE SCREENSHOT_DIR
// Prints one JSON line with what it measured; any failed check exits non-zero.
import { check, launch, newPage, shot, smallTargets } from './lib.mjs';

const [url, passphrase, shots] = process.argv.slice(2);
const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  await page.goto(url);
  // The token became a cookie and left the address bar.
  check(page.url() === `${origin}/unlock`, `after the token URL the page is ${page.url()}`);
  await page.getByRole('heading', { level: 1, name: 'Buka kunci kit' }).waitFor();
  check((await page.getAttribute('html', 'lang')) === 'id', 'the page is Indonesian by default');
  await page.getByText('Kit latihan', { exact: false }).first().waitFor();
  await shot(page, shots, '01-buka-kunci');

  // A wrong passphrase: an Indonesian message, still on the unlock page.
  await page.getByLabel('Kata sandi kit').fill('bukan-sandinya');
  await page.getByRole('button', { name: 'Buka kunci' }).click();
  await page.getByRole('alert').filter({ hasText: 'Kata sandi salah' }).waitFor();
  await shot(page, shots, '02-kata-sandi-salah');

  await page.getByLabel('Kata sandi kit').fill(passphrase);
  await page.getByRole('button', { name: 'Buka kunci' }).click();
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();
  check(page.url() === `${origin}/home`, `unlocked to ${page.url()}`);
  // Today's worklist from the training hub's sync, the visits in progress, the queue, the link
  // (loaded by htmx after the page) and the offline limits.
  await page.getByRole('heading', { name: 'Daftar kunjungan hari ini' }).waitFor();
  const residents = await page.getByRole('rowheader').filter({ hasText: 'Warga Contoh' }).count();
  check(residents === 5, `5 worklist residents shown, saw ${residents}`);
  await page.getByRole('heading', { name: 'Kunjungan berjalan' }).waitFor();
  await page.getByText('Tidak ada kunjungan yang sedang berjalan.').waitFor();
  await page.getByRole('heading', { name: 'Antrean dan jaringan' }).waitFor();
  await page.getByText('Tersambung ke hub kantor').waitFor();
  await page.getByRole('heading', { name: 'Batas mode luring' }).waitFor();
  await page.getByText('Kunjungan baru boleh dimulai.').waitFor();
  // A new visit from each worklist entry, and one for a resident not on the list.
  const newVisit = await page.getByRole('button', { name: 'Kunjungan baru' }).count();
  check(newVisit === 6, `6 "Kunjungan baru" buttons, saw ${newVisit}`);
  const small = await smallTargets(page);
  check(small.length === 0, `touch targets under 44 px: ${small.join('; ')}`);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  check(scrollWidth <= 1366, `no sideways scrolling at 1366 px (page is ${scrollWidth} px wide)`);
  await shot(page, shots, '03-beranda');
  const homeBytes = seen.bytes;

  // English, and back.
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
  check((await page.getAttribute('html', 'lang')) === 'en', 'html lang is en');
  await page.getByRole('heading', { name: "Today's worklist" }).waitFor();
  await shot(page, shots, '04-home-en');
  await page.getByRole('button', { name: 'Bahasa Indonesia' }).click();
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();

  // Lock: back to the unlock page, and home is closed.
  await page.getByRole('button', { name: 'Kunci', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Buka kunci kit' }).waitFor();
  await page.goto(`${origin}/home`);
  check(page.url() === `${origin}/unlock`, `home after locking went to ${page.url()}`);

  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  // The wrong passphrase's page comes with HTTP 422, which Chromium logs; nothing else may.
  const errors = seen.errors.filter((e) => !e.includes('status of 422'));
  check(errors.length === 0, `browser console errors: ${errors.join(' | ')}`);
  console.log(JSON.stringify({ scenario: 'unlock_mouse', home_bytes: homeBytes, total_bytes: seen.bytes, external: seen.external.length }));
} finally {
  await browser.close();
}
