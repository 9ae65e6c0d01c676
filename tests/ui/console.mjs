// The office console in Chromium: an admin signs in, imports a worklist with a bad row (the row
// and its reason shown, nothing imported) and then a good one, makes an enroll token (QR code and
// text), watches a packet arrive from a kit and be opened, and revokes the kit; a viewer is
// refused a change; the audit log names the admin's changes.
// usage: node console.mjs URL SCREENSHOT_DIR UPLOAD_COMMAND_JSON KIT_ID
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, launch, newPage, shot } from './lib.mjs';

const [url, shots, uploadJson, kitId] = process.argv.slice(2);
const upload = JSON.parse(uploadJson);
const PASSWORD = 'kata-sandi-kantor';
const dir = mkdtempSync(join(tmpdir(), 'console-'));
const badCsv = join(dir, 'daftar-salah.csv');
const goodCsv = join(dir, 'daftar.csv');
const header = 'nik,id,nama,alamat,rt/rw,desa,kategori,catatan,kit\n';
writeFileSync(goodCsv, header + '7408014501500003,,Siti Aminah,Jl. Mawar 3,003/005,Lapadi,lansia,,\n');
writeFileSync(badCsv, header + '7408014501500003,,Siti Aminah,Jl. Mawar 3,003/005,Lapadi,lansia,,\n,WL-2,Budi,,,Pujungan,bukan-kategori,,\n');

async function signIn(browser, name) {
  const s = await newPage(browser, url);
  await s.page.goto(`${url}/console/`);
  check(s.page.url().endsWith('/console/login'), `no session goes to the sign-in page: ${s.page.url()}`);
  await s.page.fill('#name', name);
  await s.page.fill('#password', PASSWORD);
  await s.page.click('button[type=submit]');
  await s.page.waitForURL(`${url}/console/`);
  return s;
}

const browser = await launch();
try {
  // Wrong password first: said, no session.
  {
    const { page } = await newPage(browser, url);
    await page.goto(`${url}/console/login`);
    await page.fill('#name', 'siti');
    await page.fill('#password', 'bukan-sandinya');
    await page.click('button[type=submit]');
    check((await page.textContent('.error')).includes('salah'), 'a wrong password is said');
  }
  const admin = await signIn(browser, 'siti');
  const page = admin.page;
  const cookies = await admin.context.cookies();
  const session = cookies.find((c) => c.name === 'jemput_console');
  check(session && session.httpOnly && session.secure && session.sameSite === 'Strict',
    `the session cookie is HttpOnly, Secure, SameSite=Strict: ${JSON.stringify(cookies)}`);
  await shot(page, shots, 'console-01-paket-kosong');

  // The worklist: a bad row is shown with its row number and reason, nothing imported.
  await page.click('nav >> text=Daftar kerja');
  await page.setInputFiles('#file', badCsv);
  await page.click('form[enctype] button[type=submit]');
  const bad = await page.textContent('#bad-rows');
  check(bad.includes('3') && bad.includes('category'), `the bad row is shown: ${bad}`);
  check(!(await page.$('#worklist')), 'nothing was imported');
  await shot(page, shots, 'console-02-daftar-salah');
  await page.setInputFiles('#file', goodCsv);
  await page.click('form[enctype] button[type=submit]');
  check((await page.textContent('[role=status]')).includes('1 entri diimpor'), 'the good file is imported');
  check((await page.textContent('#worklist')).includes('Siti Aminah'), 'and listed');

  // A token: QR code and copyable text.
  await page.click('nav >> text=Kit');
  await page.fill('#token-name', 'Tim Lapadi');
  await page.click('text=Buat token');
  const token = await page.inputValue('#token');
  check(token.length > 40, `a token is shown: ${token}`);
  const qr = await page.$eval('#qr', (img) => [img.naturalWidth, img.src.slice(0, 26)]);
  check(qr[0] >= 200 && qr[1] === 'data:image/svg+xml;base64,', `the QR code is drawn: ${qr}`);
  await shot(page, shots, 'console-03-token');

  // A viewer sees the kit but cannot revoke it, even by forcing the button.
  {
    const viewer = await signIn(browser, 'budi');
    await viewer.page.goto(`${url}/console/kits`);
    const button = `tr[data-kit="${kitId}"] button`;
    check(await viewer.page.isDisabled(button), 'the viewer\'s revoke button is disabled');
    await viewer.page.$eval(button, (b) => { b.disabled = false; });
    const [resp] = await Promise.all([
      viewer.page.waitForResponse((r) => r.url().endsWith('/revoke')),
      viewer.page.click(button),
    ]);
    check(resp.status() === 403, `the viewer's revoke is refused: HTTP ${resp.status()}`);
    check((await viewer.page.textContent('body')).includes('pemantau'), 'and the refusal says why');
    await shot(viewer.page, shots, 'console-04-pemantau-ditolak');
    await viewer.context.close();
  }

  // A packet arrives from the kit and is opened.
  execFileSync(upload[0], upload.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  await page.goto(`${url}/console/`);
  let state = '';
  for (let i = 0; i < 100 && state !== 'opened'; i++) {
    await page.goto(`${url}/console/?kit=${kitId}`);
    const row = await page.$('#packets tbody tr');
    state = row ? await row.getAttribute('data-state') : '';
    if (state !== 'opened') await page.waitForTimeout(200);
  }
  check(state === 'opened', `the packet is opened: ${state}`);
  await shot(page, shots, 'console-05-paket-dibuka');
  await page.click('#packets tbody tr a');
  const history = await page.textContent('#history');
  check(history.includes('Diterima') && history.includes('Terverifikasi') && history.includes('Dibuka'),
    `the packet's history: ${history}`);
  await shot(page, shots, 'console-06-riwayat');

  // The admin revokes the kit.
  await page.goto(`${url}/console/kits`);
  await page.click(`tr[data-kit="${kitId}"] button`);
  await page.waitForURL(`${url}/console/kits`);
  check((await page.textContent(`tr[data-kit="${kitId}"]`)).includes('Dicabut'), 'the kit is revoked');

  // The audit log: who did what.
  await page.click('nav >> text=Log audit');
  const log = await page.textContent('#audit');
  for (const action of ['worklist.import', 'token.issue', 'kit.revoke']) {
    check(log.includes(action), `the audit log has ${action}: ${log}`);
  }
  const actors = await page.$$eval('#audit tbody tr', (rows) => rows.map((r) => r.children[1].textContent));
  check(!actors.includes('budi'), `the viewer changed nothing: ${actors}`);
  check(actors.includes('siti'), `the admin's changes are hers: ${actors}`);
  await shot(page, shots, 'console-07-audit');
  console.log(JSON.stringify({ scenario: 'console', token_chars: token.length }));
} finally {
  await browser.close();
}
