import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

// What a browser downloads to run the portal — the WASM, its JS and the stylesheet, as the
// binary serves them to a browser that accepts brotli — stays under the budget in
// size-budget.json, set just above the measured size so that it cannot creep back. Raise it
// only with a reason in the commit message; lower it when the client shrinks.
const budget = JSON.parse(readFileSync('size-budget.json', 'utf8')) as { bytes: number };

/** The body's length on the wire (not decoded), and how it was encoded. */
function served(url: string): Promise<{ bytes: number; encoding: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { 'Accept-Encoding': 'br, gzip' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
        else resolve({ bytes, encoding: String(res.headers['content-encoding'] ?? 'identity') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('Size budget: WASM + JS + CSS as served with brotli stay under the budget', async ({ page, baseURL }) => {
  await page.goto('/login');
  const assets = await page.evaluate(() =>
    [...document.querySelectorAll('link[href^="/pkg/"], script[src^="/pkg/"]')].map(
      (e) => e.getAttribute('href') ?? e.getAttribute('src'),
    ),
  );
  const names = [...new Set(assets)] as string[];
  for (const suffix of ['.wasm', '.js', '.css']) {
    expect(names.some((n) => n.endsWith(suffix)), `the page links a ${suffix}: ${names}`).toBe(true);
  }
  let total = 0;
  const lines: string[] = [];
  for (const name of names) {
    const { bytes, encoding } = await served(`${baseURL}${name}`);
    total += bytes;
    lines.push(`${name}: ${bytes} bytes (${encoding})`);
    if (name.endsWith('.wasm')) expect(encoding, 'the WASM is served compressed').toBe('br');
  }
  console.log(`client as served: ${total} bytes (budget ${budget.bytes})\n  ${lines.join('\n  ')}`);
  expect(total, lines.join('; ')).toBeLessThanOrEqual(budget.bytes);
});
