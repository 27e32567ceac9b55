import { expect, test } from '@playwright/test';
import { SetupPage, Shell } from './support/pages';
import { startFreshServer } from './support/roster';

test('first-run setup creates the superadmin and opens the main tenant', async ({ page }) => {
  const server = await startFreshServer(3111);
  try {
    await page.goto(server.url + '/');
    await expect(page).toHaveURL(/\/setup$/);
    await expect(page.getByRole('heading', { name: 'Welcome to Roster' })).toBeVisible();

    const setup = new SetupPage(page);
    await setup.createSuperadmin('ada', 'short', 'short');
    await expect(page.getByText('Use at least 8 characters.')).toBeVisible();

    await setup.createSuperadmin('ada', 'analytical engine');
    await expect(page).toHaveURL(/\/t\/main\/iam\/users/);
    await expect(new Shell(page).signedInUser()).toHaveText('ada');
    await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();

    // Setup is done: the page now sends people to sign in.
    await page.goto(server.url + '/setup');
    await expect(page).toHaveURL(/\/t\/main\/iam\/users|\/login/);
  } finally {
    await server.stop();
  }
});
