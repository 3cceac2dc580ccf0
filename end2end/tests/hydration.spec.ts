import { expect, startFf, test } from './ff';

test('the first load is server-rendered, then hydrates and talks to the API', async ({ page, ff }) => {
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(ff.url);
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  await page.getByTestId('check-server').click();
  await expect(page.getByTestId('server-status')).toHaveText(/^Server ok · version \d+\.\d+\.\d+$/);
  expect(problems).toEqual([]);
});

test('the HTML before any script runs already holds the page', async ({ request, ff }) => {
  const response = await request.get(ff.url);
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('<h1>Projects</h1>');
  expect(html).toContain('data-testid="check-server"');
  expect(html).not.toContain('data-hydrated');
});

test('the page works with the keyboard alone', async ({ page, ff }) => {
  await page.goto(ff.url);
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  const button = page.getByTestId('check-server');
  for (let i = 0; i < 5 && !(await button.evaluate((b) => b === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(button).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('server-status')).toContainText('Server ok');
});

test('an unknown page answers 404 with the app around it', async ({ page, ff }) => {
  const response = await page.goto(`${ff.url}/no/such/page`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
});

test('a stopped server shows up as a failed check, not a silent nothing', async ({ page }) => {
  const server = await startFf();
  await page.goto(server.url);
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  expect(await server.stop()).toBe(0);
  await page.getByTestId('check-server').click();
  await expect(page.getByTestId('server-status')).toHaveText(/^Server check failed: the server could not be reached/);
});
