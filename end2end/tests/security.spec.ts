import { expect, test } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoginPage, TenantsPage } from './support/pages';
import { ADMIN } from './support/env';

// Issue 10, item 7: the web surface refuses what another page makes a browser send.

/** Serves `html` on another loopback port (same site as Roster, another origin) until `body` ends. */
async function withAttackerPage(html: string, body: (url: string) => Promise<void>) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}/`);
  } finally {
    server.close();
  }
}

test('a form posted from a page on another port is refused and changes nothing', async ({ page }) => {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\/main\/iam\/users/);

  // The admin's Lax session cookie goes along (ports do not make another site): only the
  // Origin / Sec-Fetch-Site check stands between this page and a new tenant.
  const target = new URL('/api/tenants/create', page.url()).toString();
  const html = `<form id="f" method="post" action="${target}">
      <input name="id" value="csrf-forged"><input name="name" value="Forged by CSRF">
    </form><script>document.getElementById('f').submit()</script>`;
  await withAttackerPage(html, async (url) => {
    const answer = page.waitForResponse((r) => r.url() === target);
    await page.goto(url);
    expect((await answer).status()).toBe(403);
    await expect(page.getByText("did not come from Roster's own pages")).toBeVisible();
  });

  await new TenantsPage(page).open();
  await expect(page.getByText('Forged by CSRF')).toHaveCount(0);
});

test('a TAB in next cannot send the browser off Roster after sign-in', async ({ page }) => {
  await page.goto('/login?next=/%09/evil.example');
  const login = new LoginPage(page);
  await login.signIn(ADMIN.username, ADMIN.password);
  await page.waitForLoadState('load');
  expect(page.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  expect(page.url()).not.toContain('evil.example');
  await expect(page.getByTestId('signed-in-user')).toHaveText(ADMIN.username);
});

test('pages carry a CSP with a nonce, and hydration still works under it', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  const res = await page.goto('/login');
  const csp = res!.headers()['content-security-policy'];
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res!.headers()['x-frame-options']).toBe('DENY');
  const login = new LoginPage(page);
  await login.signIn(ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/t\/main\/iam\/users/);
  // The WebAssembly bundle loaded and ran: nothing was refused by the policy.
  await page.waitForLoadState('networkidle');
  expect(violations).toEqual([]);
});
