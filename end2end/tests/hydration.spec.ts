import { api, expect, makeRepo, startFf, test } from './ff';

test('the projects page is server-rendered, hydrates, and adds a project by path', async ({ page, ff, hydrated }) => {
  const problems: string[] = [];
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const repo = makeRepo();

  await hydrated(page, ff.url);
  await expect(page.getByText('No projects yet')).toBeVisible();
  await page.getByTestId('repo-path').fill(repo);
  await page.getByTestId('add-project').click();
  await expect(page.getByTestId('project')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Repo' })).toBeVisible();
  expect(page.url()).toMatch(/\/projects\/[0-9a-f-]+$/);
  expect(problems).toEqual([]);
});

test('a refused project shows the server’s reason inline', async ({ page, ff, hydrated }) => {
  await hydrated(page, ff.url);
  await page.getByTestId('repo-path').fill('/definitely/not/here');
  await page.getByTestId('add-project').click();
  await expect(page.getByTestId('add-project-error')).toHaveText('/definitely/not/here does not exist');
});

test('the page works with the keyboard alone', async ({ page, ff, hydrated }) => {
  const repo = makeRepo();
  await hydrated(page, ff.url);
  const input = page.getByTestId('repo-path');
  for (let i = 0; i < 6 && !(await input.evaluate((e) => e === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(input).toBeFocused();
  await page.keyboard.type(repo);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('project')).toBeVisible();
});

test('an unknown page answers 404 with the app around it', async ({ page, ff }) => {
  const response = await page.goto(`${ff.url}/no/such/page`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
});

test('the HTML before any script runs already lists the projects', async ({ request, ff }) => {
  const repo = makeRepo();
  await api(ff, 'POST', '/api/projects', { repoPath: repo, name: 'Server rendered' });
  const html = await (await request.get(ff.url, { headers: ff.auth })).text();
  expect(html).toContain('Server rendered');
  expect(html).not.toContain('data-hydrated');
});

test('a stopped server makes a mutation fail visibly, not silently', async ({ page }) => {
  const server = await startFf();
  await server.login(page.context());
  const repo = makeRepo();
  await page.goto(server.url);
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  expect(await server.stop()).toBe(0);
  await page.getByTestId('repo-path').fill(repo);
  await page.getByTestId('add-project').click();
  await expect(page.getByTestId('add-project-error')).toContainText('the server could not be reached');
});
