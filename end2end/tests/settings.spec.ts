// The settings page: agents with their install state, the user's own agent servers, defaults,
// permission policies, and this browser's notifications.
import { scriptedAgentBinary } from './agents';
import { addProject, api, expect, makeRepo, test } from './ff';

const row = (page: import('@playwright/test').Page, name: string) => page.locator(`[data-testid="agent-row"][data-agent="${name}"]`);

test('the settings page is server-rendered with every agent and its install state', async ({ request, ff }) => {
  const html = await (await request.get(`${ff.url}/settings`, { headers: ff.auth })).text();
  expect(html).toContain('data-agent="claude"');
  expect(html).toContain('data-agent="codex"');
  expect(html).not.toContain('data-hydrated');
  const agents = await api(ff, 'GET', '/api/agents');
  for (const agent of agents.filter((a: any) => !a.installed)) expect(html).toContain(agent.installHint);
});

test('an agent server is added, refused without a command, made the default and removed', async ({ page, ff, hydrated }) => {
  const problems: string[] = [];
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await hydrated(page, ff.url);
  await page.getByTestId('settings-link').click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await expect(row(page, 'claude')).toContainText('built in');
  await expect(row(page, 'claude')).toContainText('default');

  // The server refuses an empty command, and the page says why in its words.
  await page.getByTestId('agent-name').fill('gemini');
  await page.getByTestId('agent-save').click();
  await expect(page.getByTestId('settings-error')).toHaveText('agentServers.gemini.command must not be empty');
  await expect(row(page, 'gemini')).toHaveCount(0);

  await page.getByTestId('agent-command').fill(scriptedAgentBinary);
  await page.getByTestId('agent-args').fill('--experimental-acp');
  await page.getByTestId('agent-env').fill('GEMINI_API_KEY=not-a-key');
  await page.getByTestId('agent-save').click();
  await expect(row(page, 'gemini')).toContainText('Yes');
  await expect(row(page, 'gemini')).toContainText('--experimental-acp');
  await expect(page.getByTestId('settings-error')).toBeEmpty();
  await expect(page.getByTestId('agent-name')).toHaveValue('');
  const saved = await api(ff, 'GET', '/api/settings');
  expect(saved.agentServers.gemini).toEqual({ command: scriptedAgentBinary, args: ['--experimental-acp'], env: { GEMINI_API_KEY: 'not-a-key' } });

  await page.getByTestId('default-agent').selectOption('gemini');
  await expect(row(page, 'gemini')).toContainText('default');
  await page.getByTestId('permission-policy').selectOption('edits');
  await expect(page.getByTestId('settings-saved')).toHaveText('Saved');
  let now = await api(ff, 'GET', '/api/settings');
  expect([now.defaultAgent, now.permissionPolicy, now.ratchetPermissionPolicy]).toEqual(['gemini', 'edits', 'all']);

  // The default agent cannot go: the server says so, and nothing changes.
  await row(page, 'gemini').getByTestId('agent-remove').click();
  await expect(page.getByTestId('settings-error')).toHaveText('defaultAgent "gemini" is not a configured agent');
  await expect(row(page, 'gemini')).toHaveCount(1);

  await page.getByTestId('default-agent').selectOption('claude');
  await expect(row(page, 'claude')).toContainText('default');
  await row(page, 'gemini').getByTestId('agent-remove').click();
  await expect(row(page, 'gemini')).toHaveCount(0);
  now = await api(ff, 'GET', '/api/settings');
  expect([now.defaultAgent, now.agentServers]).toEqual(['claude', {}]);

  // After a reload the page shows what the server kept.
  await page.reload();
  await expect(page.getByTestId('permission-policy')).toHaveValue('edits');
  await expect(page.getByTestId('default-agent')).toHaveValue('claude');
  // The refusals above are answers the page shows, not errors of the page.
  expect(problems.filter((p) => !p.includes('status of 422'))).toEqual([]);
});

test('notifications are asked for from the checkbox and remembered in this browser', async ({ context, page, ff, hydrated }) => {
  await context.grantPermissions(['notifications'], { origin: ff.url });
  await hydrated(page, `${ff.url}/settings`);
  await expect(page.getByTestId('notifications')).not.toBeChecked();
  await page.getByTestId('notifications').check();
  await page.getByTestId('sound').check();
  expect(await page.evaluate(() => [localStorage.getItem('ff.notifications'), localStorage.getItem('ff.sound')])).toEqual(['on', 'on']);
  await page.reload();
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('notifications')).toBeChecked();
  await expect(page.getByTestId('sound')).toBeChecked();
  await expect(page.getByTestId('notifications-blocked')).toHaveCount(0);
});

test('the ratchet’s defaults are set on the settings page and kept', async ({ page, ff, hydrated }) => {
  await hydrated(page, `${ff.url}/settings`);
  await expect(page.getByTestId('ratchet-default')).not.toBeChecked();
  await expect(page.getByTestId('ratchet-review-trigger')).toHaveValue('changes-requested');
  await page.getByTestId('ratchet-default').check();
  await expect(page.getByTestId('settings-saved')).toHaveText('Saved');
  await page.getByTestId('ratchet-review-trigger').selectOption('all-review-feedback');
  await expect.poll(async () => (await api(ff, 'GET', '/api/settings')).ratchetReviewTrigger).toBe('ALL_REVIEW_FEEDBACK');
  expect((await api(ff, 'GET', '/api/settings')).ratchetEnabled).toBe(true);
  await hydrated(page, `${ff.url}/settings`);
  await expect(page.getByTestId('ratchet-default')).toBeChecked();
  await expect(page.getByTestId('ratchet-review-trigger')).toHaveValue('all-review-feedback');
  // Replying on and resolving the threads a fixer addressed: both on by default, each kept alone.
  await expect(page.getByTestId('ratchet-reply-to-review-threads')).toBeChecked();
  await expect(page.getByTestId('ratchet-resolve-threads')).toBeChecked();
  await page.getByTestId('ratchet-resolve-threads').uncheck();
  await expect.poll(async () => (await api(ff, 'GET', '/api/settings')).ratchetResolveThreads).toBe(false);
  await page.getByTestId('ratchet-reply-to-review-threads').uncheck();
  await expect.poll(async () => (await api(ff, 'GET', '/api/settings')).ratchetReplyToReviewThreads).toBe(false);
  await hydrated(page, `${ff.url}/settings`);
  await expect(page.getByTestId('ratchet-reply-to-review-threads')).not.toBeChecked();
  await expect(page.getByTestId('ratchet-resolve-threads')).not.toBeChecked();
  await expect(page.getByTestId('ratchet-default')).toBeChecked();
});

test('a project’s settings: its agent is what new workspaces get, bad input is refused in the server’s words', async ({ page, ff, hydrated }) => {
  const project = await addProject(ff, makeRepo());
  await hydrated(page, `${ff.url}/projects/${project}`);
  await page.getByTestId('project-settings-open').click();
  const dialog = page.getByTestId('project-settings');
  await expect(dialog.getByTestId('project-agent')).toHaveValue('');
  await dialog.getByTestId('project-setup-timeout').fill('9000');
  await dialog.getByTestId('project-settings-save').click();
  await expect(dialog.getByTestId('project-settings-error')).toContainText('setupTimeoutSeconds must be between 1 and 3600');
  expect((await api(ff, 'GET', `/api/projects/${project}`)).setupTimeoutSeconds).toBe(300);

  await dialog.getByTestId('project-setup-timeout').fill('600');
  await dialog.getByTestId('project-name').fill('Renamed <i>project</i>');
  await dialog.getByTestId('project-agent').selectOption('codex');
  await dialog.getByTestId('project-settings-save').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('project-title')).toHaveText('Renamed <i>project</i>');
  const saved = await api(ff, 'GET', `/api/projects/${project}`);
  expect([saved.name, saved.setupTimeoutSeconds, saved.defaultAgent]).toEqual(['Renamed <i>project</i>', 600, 'codex']);

  // A new workspace names no agent unless asked: the project's is the one it would get.
  await page.getByTestId('new-workspace').click();
  await expect(page.getByTestId('agent').locator('option').first()).toHaveText(/codex \(project default\)/);
  await page.keyboard.press('Escape');

  await page.getByTestId('project-settings-open').click();
  await expect(dialog.getByTestId('project-agent')).toHaveValue('codex');
  await dialog.getByTestId('project-agent').selectOption('');
  await dialog.getByTestId('project-settings-save').click();
  await expect(dialog).toHaveCount(0);
  expect((await api(ff, 'GET', `/api/projects/${project}`)).defaultAgent).toBeNull();
});
