// What a browser gets without the printed URL's token: 403 on every page, and a tampered token
// starts no session. usage: node refusals.mjs URL SCREENSHOT_DIR
import { check, launch, newPage, shot } from './lib.mjs';

const [url, shots] = process.argv.slice(2);
const browser = await launch();
try {
  const { page, origin } = await newPage(browser, url);
  for (const path of ['/', '/unlock', '/home']) {
    const r = await page.goto(`${origin}${path}`);
    check(r.status() === 403, `${path} without the token: HTTP ${r.status()}`);
    check((await page.textContent('body')).includes('Ditolak'), `${path}: the refusal is explained`);
  }
  await shot(page, shots, '07-tanpa-token-403');
  const tampered = url.slice(0, -4) + (url.endsWith('0000') ? 'ffff' : '0000');
  const r = await page.goto(tampered);
  check(r.status() === 403, `a tampered token: HTTP ${r.status()}`);
  const cookies = await page.context().cookies();
  check(cookies.length === 0, `no cookie without the right token: ${JSON.stringify(cookies)}`);
  console.log(JSON.stringify({ scenario: 'refusals' }));
} finally {
  await browser.close();
}
