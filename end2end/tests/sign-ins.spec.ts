// Instance → Sign-ins: a superadmin sees someone guessing a person's password, keeps the page to
// the failures, then to that person's account.
import { expect, test } from '@playwright/test';
import { LoginPage } from './support/pages';
import { signInAsAdmin } from './support/iam-pages';
import { provisionUser } from './support/roles-pages';

test('a superadmin finds the failed sign-ins of an account', async ({ page, browser, request }) => {
  const username = `guess-${Date.now().toString(36)}`;
  await provisionUser(request, username, 'right password 1');

  // Someone tries two wrong passwords for the account.
  const other = await browser.newContext();
  const guesser = new LoginPage(await other.newPage());
  await guesser.open();
  for (const guess of ['guess one', 'guess two']) {
    await guesser.signIn(username, guess);
    await expect(guesser.alert()).toHaveText(/Wrong username or password\./);
  }
  await other.close();

  await signInAsAdmin(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign-ins' }).click();
  await expect(page.getByRole('heading', { name: 'Sign-ins', level: 1 })).toBeVisible();
  await expect(page.getByTestId('sign-ins-failed-lately')).toContainText(/password checks? failed in the last 24 hours/);
  const theirs = page.getByTestId('instance-sign-in').filter({ hasText: username });
  await expect(theirs).toHaveCount(2);
  await expect(theirs.first()).toContainText('Wrong password');
  await page.screenshot({ path: 'test-results/instance-sign-ins.png', fullPage: true });

  // The failures only: no successful sign-in is listed.
  await page.getByTestId('sign-ins-failed-lately').getByRole('link', { name: 'Show the failures' }).click();
  await expect(page).toHaveURL(/failed=1/);
  await expect(page.getByLabel('Which')).toHaveValue('1');
  const rows = page.getByTestId('instance-sign-in');
  await expect(rows.filter({ hasText: 'Signed in' })).toHaveCount(0);
  await expect(rows.filter({ hasText: username })).toHaveCount(2);

  // One account's: its name links to them, and the filter stays.
  await rows.filter({ hasText: username }).first().getByRole('link', { name: username }).click();
  await expect(page.getByTestId('sign-ins-user')).toContainText(`Sign-ins of ${username} only.`);
  await expect(rows).toHaveCount(2);
  await page.getByLabel('Which').selectOption('');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).not.toHaveURL(/failed=1/);
  await expect(page.getByTestId('sign-ins-user')).toBeVisible();
  await expect(rows).toHaveCount(2);
  await page.screenshot({ path: 'test-results/instance-sign-ins-account.png', fullPage: true });
});
