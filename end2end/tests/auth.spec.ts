// Who may drive ff, in the browser: the printed URL's token becomes an HttpOnly, SameSite=Strict
// cookie and leaves the address bar; without it a person sees how to log in; no other site can
// frame ff; and an agent's remote image never makes the page fetch anything.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newSession, readyWorkspace, useScriptedAgent } from './agents';
import { execFileSync } from 'node:child_process';
import { api, expect, ffBinary, makeRepo, startFf, test } from './ff';

/** A server on another origin that records every request and serves `page` at `/`. */
async function stranger(page = ''): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    response.writeHead(200, { 'content-type': request.url === '/' ? 'text/html' : 'image/png' });
    response.end(request.url === '/' ? page : '');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((done) => server.close(() => done())) };
}

test('the printed URL logs a browser in with a strict, HttpOnly cookie and leaves the address bar', async ({ browser, ff }) => {
  const context = await browser.newContext();
  const page = await context.newPage();

  const refused = await page.goto(`${ff.url}/settings`);
  expect(refused?.status()).toBe(401);
  await expect(page.getByTestId('login')).toContainText('Open the URL ff printed');
  expect(await context.cookies()).toEqual([]);

  await page.goto(`${ff.url}/settings?token=${ff.token}`);
  expect(page.url()).toBe(`${ff.url}/settings`);
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: `ff_token_${ff.port}`, value: ff.token, httpOnly: true, sameSite: 'Strict', secure: false });
  expect(await page.evaluate(() => document.cookie)).toBe('');

  // The live socket of the board works on the cookie alone.
  const project = (await api<{ id: string }>(ff, 'POST', '/api/projects', { repoPath: makeRepo() })).id;
  await page.goto(`${ff.url}/projects/${project}`);
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  await api(ff, 'POST', `/api/projects/${project}/workspaces`, { source: 'MANUAL', name: 'Arrives live' });
  await expect(page.locator('[data-testid="card"]', { hasText: 'Arrives live' })).toBeVisible();

  // Pasting the token into the login page works as well.
  const other = await (await browser.newContext()).newPage();
  await other.goto(`${ff.url}/`);
  await other.getByLabel('Or paste the token').fill(ff.token);
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other.locator('[data-hydrated="true"]')).toBeAttached();
  expect(other.url()).toBe(`${ff.url}/`);
  await context.close();
});

test('another site cannot frame ff', async ({ page, ff }) => {
  const site = await stranger(`<!DOCTYPE html><iframe id="ff" src="${ff.url}/settings" width="800" height="600"></iframe>`);
  try {
    await page.goto(site.url);
    const frame = page.frameLocator('#ff');
    // Neither the page nor the login page renders inside the frame.
    await page.waitForTimeout(1500);
    await expect(frame.locator('[data-testid="login"], [data-hydrated], body main')).toHaveCount(0);
  } finally {
    await site.close();
  }
});

test('a remote image in an agent message is a link, and the page fetches nothing from its host', async ({ page, ff, hydrated }) => {
  const host = await stranger();
  try {
    const image = `${host.url}/p.png?d=SECRET`;
    await useScriptedAgent(ff, { turns: [{ steps: [{ text: `Look: ![diagram](${image}) and done.` }] }] });
    const { workspace } = await readyWorkspace(ff, 'Images');
    const session = await newSession(ff, workspace.id);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);
    await api(ff, 'POST', `/api/sessions/${session}/messages`, { text: 'show me' });
    const reply = page.locator('[data-testid="transcript"] [data-kind="agent"]');
    await expect(reply).toContainText('and done.');
    await expect(reply.locator('img')).toHaveCount(0);
    await expect(reply.locator(`a[href="${image}"]`)).toContainText(image);
    await page.reload();
    await expect(reply).toContainText('and done.');
    await page.waitForTimeout(500);
    expect(host.requests).toEqual([]);
    expect(problems).toEqual([]);
  } finally {
    await host.close();
  }
});

test('rotating the token logs every open page out to the login page', async ({ page }) => {
  const ff = await startFf({ generatedToken: true });
  try {
    expect(ff.token).toHaveLength(64);
    const project = (await api<{ id: string }>(ff, 'POST', '/api/projects', { repoPath: makeRepo() })).id;
    await page.goto(`${ff.url}/projects/${project}?token=${ff.token}`);
    await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
    const printed = execFileSync(ffBinary, ['token', '--rotate', '--data-dir', ff.dataDir], { encoding: 'utf8' });
    expect(printed).toContain('must log in again');
    // The board's socket is closed as logged out, and the page shows how to log in again.
    await expect(page.getByTestId('login')).toBeVisible({ timeout: 15_000 });
    expect(page.url()).toBe(`${ff.url}/projects/${project}`);
  } finally {
    await ff.stop();
  }
});
