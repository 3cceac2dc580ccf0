import { existsSync, mkdirSync } from 'node:fs';
import type { Page, TestInfo } from '@playwright/test';
import { addProject, api, createWorkspace, expect, makeRepo, startFf, test, waitForStatus } from './ff';

const card = (page: Page, column: string, name: string) =>
  page.locator(`[data-column="${column}"] [data-testid="card"]`, { hasText: name });
const sidebarRow = (page: Page, name: string) => page.locator('[data-testid="sidebar-row"]', { hasText: name });
const listRow = (page: Page, name: string) => page.locator('[data-testid="row"]', { hasText: name });

async function screenshot(page: Page, info: TestInfo, name: string) {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  mkdirSync('artifacts', { recursive: true });
  await page.screenshot({ path: `artifacts/${name}.png`, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

test('the first load’s HTML already contains every workspace card', async ({ request, ff }) => {
  const project = await addProject(ff, makeRepo());
  const names = ['Alpha', 'Beta', 'Gamma'];
  const ids = [];
  for (const name of names) ids.push(await createWorkspace(ff, project, name));
  for (const id of ids) await waitForStatus(ff, id, 'READY');
  const html = await (await request.get(`${ff.url}/projects/${project}`, { headers: ff.auth })).text();
  for (const name of names) expect(html).toContain(name);
  expect(html.match(/data-testid="card"/g)?.length).toBe(3);
  expect(html.match(/data-testid="sidebar-row"/g)?.length).toBe(3);
  expect(html).not.toContain('data-hydrated');
});

test('a new workspace appears under Working and moves to Waiting by itself, in two pages at once', async ({ browser, ff, hydrated }, info) => {
  const project = await addProject(ff, makeRepo({ setup: 'sleep 2; echo set up' }));
  const [creator, watcher, list] = [await ff.newPage(browser), await ff.newPage(browser), await ff.newPage(browser)];
  await hydrated(creator, `${ff.url}/projects/${project}`);
  await hydrated(watcher, `${ff.url}/projects/${project}`);
  await hydrated(list, `${ff.url}/projects/${project}/list`);

  await creator.getByTestId('new-workspace').click();
  await expect(creator.getByTestId('create-dialog')).toBeVisible();
  await creator.getByTestId('name').fill('Live card');
  await screenshot(creator, info, 'create-dialog');
  await creator.getByTestId('create-submit').click();
  await expect(creator.getByTestId('create-dialog')).toBeHidden();

  for (const page of [creator, watcher]) {
    await expect(card(page, 'WORKING', 'Live card')).toContainText('Setting up workspace');
    await expect(sidebarRow(page, 'Live card')).toContainText('Setting up workspace');
  }
  await expect(listRow(list, 'Live card')).toContainText('Setting up workspace');

  for (const page of [creator, watcher]) {
    await expect(card(page, 'WAITING', 'Live card')).toContainText('No session started', { timeout: 15_000 });
    await expect(page.locator('[data-column="WORKING"] [data-testid="card"]')).toHaveCount(0);
    await expect(sidebarRow(page, 'Live card')).toContainText('No session started');
  }
  await expect(listRow(list, 'Live card')).toContainText('No session started');
  await screenshot(watcher, info, 'board');
});

test('the dev server starts and stops from the detail page, with live status and logs', async ({ page, ff, hydrated }, info) => {
  const project = await addProject(ff, makeRepo({ run: 'echo "listening on {port}"; exec python3 -m http.server {port} --bind 127.0.0.1' }));
  const id = await createWorkspace(ff, project, 'Dev server');
  await waitForStatus(ff, id, 'READY');
  await hydrated(page, `${ff.url}/workspaces/${id}`);
  await page.locator('[data-testid="panel-tab"][data-tab="dev"]').click();

  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('RUNNING');
  const { port } = await api(ff, 'GET', `/api/workspaces/${id}/run-script`);
  await expect(page.getByTestId('run-logs')).toContainText(`listening on ${port}`);
  await expect(page.getByTestId('run-stop')).toBeEnabled();
  await screenshot(page, info, 'detail');

  await page.getByTestId('run-stop').click();
  await expect(page.getByTestId('run-status')).toHaveText('IDLE', { timeout: 15_000 });
  await expect(page.getByTestId('run-logs')).toContainText('[ff] Stopped');
});

test('archiving removes the card from every page and the worktree from disk', async ({ browser, ff, hydrated }) => {
  const project = await addProject(ff, makeRepo());
  const id = await createWorkspace(ff, project, 'Short lived');
  const { worktreePath, branchName } = await waitForStatus(ff, id, 'READY');
  const [board, other, detail] = [await ff.newPage(browser), await ff.newPage(browser), await ff.newPage(browser)];
  await hydrated(board, `${ff.url}/projects/${project}`);
  await hydrated(other, `${ff.url}/projects/${project}`);
  await hydrated(detail, `${ff.url}/workspaces/${id}`);
  await expect(card(board, 'WAITING', 'Short lived')).toBeVisible();

  await detail.getByTestId('workspace-menu').locator('summary').click();
  await detail.getByTestId('archive').click();
  const confirm = detail.getByTestId('archive-confirm');
  await expect(confirm).toContainText('uncommitted or untracked work');
  await expect(confirm).toContainText(branchName);
  await detail.getByTestId('archive-confirm-button').click();

  for (const page of [board, other]) {
    await expect(page.locator('[data-testid="card"]')).toHaveCount(0);
    await expect(page.locator('[data-testid="sidebar-row"]')).toHaveCount(0);
  }
  await expect(detail.getByTestId('archived')).toBeVisible();
  await waitForStatus(ff, id, 'ARCHIVED');
  expect(existsSync(worktreePath)).toBe(false);
});

test('a stopped server shows reconnecting, and the restarted one resyncs the page', async ({ page, hydrated }) => {
  const first = await startFf();
  await first.login(page.context());
  const project = await addProject(first, makeRepo());
  await waitForStatus(first, await createWorkspace(first, project, 'Before'), 'READY');
  await hydrated(page, `${first.url}/projects/${project}`);
  await expect(card(page, 'WAITING', 'Before')).toBeVisible();
  await expect(page.getByTestId('reconnecting')).toHaveCount(0);

  await first.stop();
  await expect(page.getByTestId('reconnecting')).toBeVisible();

  const second = await startFf({ dataDir: first.dataDir, port: first.port });
  try {
    await createWorkspace(second, project, 'While away');
    await expect(page.getByTestId('reconnecting')).toHaveCount(0, { timeout: 20_000 });
    await expect(page.locator('[data-testid="card"]', { hasText: 'While away' })).toBeVisible();
    await expect(card(page, 'WAITING', 'Before')).toBeVisible();
  } finally {
    await second.stop();
  }
});

test('with the socket blocked, polling still shows changes', async ({ page, hydrated }) => {
  const ff = await startFf({ env: { FF_POLL_INTERVAL_MS: '500' } });
  await ff.login(page.context());
  try {
    const project = await addProject(ff, makeRepo());
    await page.routeWebSocket(/\/ws\/snapshots/, (ws) => ws.close());
    await hydrated(page, `${ff.url}/projects/${project}`);
    await expect(page.getByTestId('reconnecting')).toBeVisible();
    await createWorkspace(ff, project, 'Polled');
    await expect(page.locator('[data-testid="card"]', { hasText: 'Polled' })).toBeVisible({ timeout: 10_000 });
  } finally {
    await ff.stop();
  }
});

test('the create dialog checks input as the server does and shows the server’s refusal', async ({ page, ff, hydrated }) => {
  const project = await addProject(ff, makeRepo());
  await waitForStatus(ff, await createWorkspace(ff, project, 'Taken'), 'READY');
  await hydrated(page, `${ff.url}/projects/${project}`);
  await page.getByTestId('new-workspace').click();
  await page.getByTestId('source-RESUME_BRANCH').check();

  await page.getByTestId('branch-name').fill('a..b');
  await page.getByTestId('create-submit').click();
  await expect(page.getByTestId('create-dialog')).toContainText(`branchName "a..b" is not a valid git branch name: it contains '..'`);

  await page.getByTestId('branch-name').fill('taken');
  await page.getByTestId('create-submit').click();
  await expect(page.getByTestId('create-error')).toHaveText('branch taken is already checked out in workspace "Taken"');
  await expect(page.getByTestId('create-dialog')).toBeVisible();

  await page.keyboard.press('Escape');
  await expect(page.getByTestId('create-dialog')).toBeHidden();
  const { length } = await api(ff, 'GET', `/api/projects/${project}/workspaces`);
  expect(length).toBe(1);
});
