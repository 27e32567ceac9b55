// Your account: a person opens it from the user menu, sees where they are signed in, signs out
// another browser, and changes their password (the current one checked first).
import { expect, test } from '@playwright/test';
import { LoginPage, Shell } from './support/pages';
import { notice, provisionUser } from './support/roles-pages';

test('a person signs out another browser and changes their password', async ({ page, browser, request }) => {
  const username = `acct-${Date.now().toString(36)}`;
  await provisionUser(request, username, 'first password 1');

  // Two browsers signed in as the same person.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  for (const p of [otherPage, page]) {
    const login = new LoginPage(p);
    await login.open();
    await login.signIn(username, 'first password 1');
    await expect(new Shell(p).signedInUser()).toHaveText(username);
  }

  await page.waitForLoadState('networkidle');
  await page.getByTestId('user-menu').locator('summary').click();
  await page.getByRole('link', { name: 'Your account' }).click();
  await expect(page.getByRole('heading', { name: 'Your account', level: 1 })).toBeVisible();
  // The menu closes behind its link, as it would on a new page.
  await expect(page.getByTestId('user-menu')).not.toHaveAttribute('open', /.*/);
  await expect(page.getByTestId(`account-tenant-main`)).toContainText('No role');
  const sessions = page.getByTestId('account-session');
  await expect(sessions).toHaveCount(2);
  await expect(sessions.filter({ hasText: 'This session' })).toHaveCount(1);
  await expect(sessions.first()).toContainText('Headless Chrome on Linux');
  await expect(sessions.first()).toContainText('Password');
  const signIns = page.getByTestId('account-sign-in');
  await expect(signIns).toHaveCount(2);
  await expect(signIns.first()).toContainText('Signed in');
  await page.screenshot({ path: 'test-results/account.png', fullPage: true });

  // Sign the other browser out.
  await page.getByRole('button', { name: 'Sign out the other session' }).click();
  await expect(notice(page)).toHaveText(/Signed out of 1 other session\./);
  await expect(sessions).toHaveCount(1);
  await otherPage.reload();
  await expect(otherPage).toHaveURL(/\/login\?next=/);
  await other.close();

  // A wrong current password is refused beside its field; the right one changes it.
  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password', { exact: true }).fill('second password 2');
  await form.getByLabel('New password, again').fill('second password 2');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('That is not your current password.')).toBeVisible();
  await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
  await expect(signIns.filter({ hasText: 'Wrong password' })).toHaveCount(1);
  await expect(page.getByText('1 attempt that failed')).toBeVisible();

  await page.getByLabel('Current password').fill('first password 1');
  await page.getByLabel('New password', { exact: true }).fill('second password 2');
  await page.getByLabel('New password, again').fill('second password 2');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(notice(page)).toHaveText(/Password changed\./);
  await expect(page.getByRole('heading', { name: 'Your account', level: 1 })).toBeVisible();
  await expect(sessions).toHaveCount(1);
  await page.screenshot({ path: 'test-results/account-password-changed.png', fullPage: true });

  // Still signed in here; the new password is the one that works.
  await new Shell(page).signOut();
  const login = new LoginPage(page);
  await login.signIn(username, 'first password 1');
  await expect(login.alert()).toHaveText(/Wrong username or password\./);
  await login.signIn(username, 'second password 2');
  await expect(new Shell(page).signedInUser()).toHaveText(username);
});
