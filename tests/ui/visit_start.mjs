// Starting visits from the station: from a worklist entry with a family member's consent, and
// for a resident not on the list whose NIK disagrees with the sex entered (the warning confirmed)
// who then refuses consent. usage: node visit_start.mjs URL PASSPHRASE SCREENSHOT_DIR
import { check, launch, newPage, shot } from './lib.mjs';

const [url, passphrase, shots] = process.argv.slice(2);
const NIK = '7408014512500001'; // a woman born 1950-12-05
const browser = await launch();
try {
  const { page, seen, origin } = await newPage(browser, url);
  await page.goto(url);
  await page.getByLabel('Kata sandi kit').fill(passphrase);
  await page.getByRole('button', { name: 'Buka kunci' }).click();
  await page.getByRole('heading', { level: 1, name: 'Beranda' }).waitFor();

  // 1. From the worklist: the entry fills the form.
  const row = page.getByRole('row').filter({ hasText: 'Warga Contoh 1' });
  await row.getByRole('button', { name: 'Kunjungan baru' }).click();
  await page.getByRole('heading', { level: 1, name: 'Kunjungan baru' }).waitFor();
  check((await page.getByLabel('Nama warga').inputValue()) === 'Warga Contoh 1', 'the name comes from the worklist');
  check((await page.getByLabel('Kategori kunjungan').inputValue()) === 'lansia', 'the category comes from the worklist');
  await shot(page, shots, '08-kunjungan-baru');
  await page.getByRole('button', { name: 'Mulai kunjungan' }).click();
  await page.getByRole('heading', { level: 1, name: 'Persetujuan' }).waitFor();
  check(/\/visit\/[0-9a-f-]{36}\/consent$/.test(page.url()), `consent page at ${page.url()}`);
  // Family without a name is refused with a message; with one, consent is recorded.
  await page.getByRole('radio', { name: 'Keluarga' }).check();
  await page.getByRole('button', { name: 'Setuju' }).click();
  await page.getByRole('alert').filter({ hasText: 'Isi nama keluarga atau wali' }).waitFor();
  await page.getByLabel('Nama keluarga atau wali').fill('Budi');
  await page.getByLabel('Hubungan dengan warga').fill('anak');
  await shot(page, shots, '09-persetujuan');
  await page.getByRole('button', { name: 'Setuju' }).click();
  // Consent recorded: on to the visit's first capture step, the face photo.
  await page.getByRole('heading', { level: 1, name: 'Foto wajah' }).waitFor();
  check(/\/visit\/[0-9a-f-]{36}\/step\/face$/.test(page.url()), `face step at ${page.url()}`);

  // 2. A resident not on the list: the NIK says a woman, the form says a man.
  await page.goto(`${origin}/home`);
  await page.locator('form.actions').getByRole('button', { name: 'Kunjungan baru' }).click();
  await page.getByRole('heading', { level: 1, name: 'Kunjungan baru' }).waitFor();
  await page.getByLabel('NIK').fill('12345');
  await page.getByLabel('Kategori kunjungan').selectOption('lansia');
  await page.getByRole('button', { name: 'Mulai kunjungan' }).click();
  await page.getByRole('alert').filter({ hasText: 'NIK tidak valid' }).waitFor();
  await page.getByLabel('NIK').fill(NIK);
  await page.getByLabel('Nama warga').fill('Ani');
  await page.getByRole('radio', { name: 'Laki-laki' }).check();
  await page.getByLabel('Tanggal lahir').fill('1950-12-05');
  await page.getByRole('button', { name: 'Mulai kunjungan' }).click();
  await page.getByRole('alert').filter({ hasText: 'tidak cocok dengan NIK' }).waitFor();
  const warnings = page.locator('fieldset.warnings input[type=checkbox]');
  const n = await warnings.count();
  check(n >= 1, `at least one NIK warning to confirm, saw ${n}`);
  await shot(page, shots, '10-peringatan-nik');
  for (let i = 0; i < n; i++) await warnings.nth(i).check();
  await page.getByRole('button', { name: 'Mulai kunjungan' }).click();
  await page.getByRole('heading', { level: 1, name: 'Persetujuan' }).waitFor();
  await page.getByRole('button', { name: 'Menolak' }).click();
  await page.getByRole('status').filter({ hasText: 'Warga menolak' }).waitFor();
  await shot(page, shots, '11-menolak');

  // 3. Home: both visits, read back from their encrypted drafts.
  await page.goto(`${origin}/home`);
  const drafts = page.locator('section[aria-labelledby=h-drafts]');
  await drafts.getByRole('row').filter({ hasText: 'Warga Contoh 1' }).filter({ hasText: 'belum lengkap' }).waitFor();
  await drafts.getByRole('row').filter({ hasText: 'Ani' }).filter({ hasText: 'Persetujuan ditolak' }).waitFor();
  await row.getByText('sedang berjalan').waitFor();
  await shot(page, shots, '12-beranda-kunjungan');

  check(seen.external.length === 0, `requests outside the station: ${seen.external.join(', ')}`);
  const errors = seen.errors.filter((e) => !e.includes('status of 422'));
  check(errors.length === 0, `browser console errors: ${errors.join(' | ')}`);
  console.log(JSON.stringify({ scenario: 'visit_start', warnings: n }));
} finally {
  await browser.close();
}
