// Scheduled tasks in a project's settings: server-rendered with the page when `?settings` opens
// them, then created, run now, disabled and deleted in the hydrated page.
import { useScriptedAgent } from './agents';
import { addProject, api, expect, makeRepo, test } from './ff';

test('a task is server-rendered with its next due time, escaped', async ({ request, ff }) => {
  const project = await addProject(ff, makeRepo());
  await api(ff, 'POST', `/api/projects/${project}/schedules`, {
    name: 'Nightly <b>deps</b>',
    prompt: 'Update the dependencies',
    cron: '30 2 * * *',
    timeZone: 'America/New_York',
  });
  const html = await (await request.get(`${ff.url}/projects/${project}?settings`, { headers: ff.auth })).text();
  expect(html).toContain('data-testid="scheduled-tasks"');
  expect(html).toContain('Nightly &lt;b&gt;deps&lt;/b&gt;');
  expect(html).not.toContain('<b>deps</b>');
  expect(html).toMatch(/Next run \d{4}-\d\d-\d\d 02:30 E[SD]T/);
  expect(html).toContain('No runs yet.');
});

test('a task is created, run now with a link to its workspace, disabled and deleted', async ({ page, ff, hydrated }) => {
  const problems: string[] = [];
  // The refused save below is the one 422 the browser reports; anything else is a problem.
  const refused = 'Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)';
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && m.text() !== refused && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await useScriptedAgent(ff, {});
  const project = await addProject(ff, makeRepo());
  await hydrated(page, `${ff.url}/projects/${project}`);
  await page.getByTestId('project-settings-open').click();
  const tasks = page.getByTestId('scheduled-tasks');
  await expect(tasks).toContainText('Scheduled tasks');

  // The server's check (cron and time zones are evaluated there only) names the field; nothing
  // is saved.
  await tasks.getByTestId('schedule-name-input').fill('Morning triage');
  await tasks.getByTestId('schedule-prompt').fill('Triage the new issues');
  await tasks.getByTestId('schedule-cron').fill('0 9 * *');
  await tasks.getByTestId('schedule-zone').fill('Europe/Berlin');
  await tasks.getByTestId('schedule-save').click();
  await expect(tasks.getByTestId('schedule-error')).toContainText('cron "0 9 * *" is not a cron expression');
  expect(await api(ff, 'GET', `/api/projects/${project}/schedules`)).toEqual([]);

  await tasks.getByTestId('schedule-cron').fill('0 9 * * *');
  await tasks.getByTestId('schedule-save').click();
  const row = tasks.getByTestId('schedule');
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('schedule-name')).toHaveText('Morning triage');
  await expect(row.getByTestId('schedule-next')).toHaveText(/^Next run \d{4}-\d\d-\d\d 09:00 CES?T$/);
  await expect(tasks.getByTestId('schedule-name-input')).toHaveValue('');
  const [saved] = await api(ff, 'GET', `/api/projects/${project}/schedules`);
  expect([saved.cron, saved.timeZone, saved.enabled]).toEqual(['0 9 * * *', 'Europe/Berlin', true]);

  await row.getByTestId('schedule-run').click();
  const run = row.getByTestId('execution');
  await expect(run).toHaveCount(1);
  await expect(run).toContainText('run now');
  const link = run.getByTestId('execution-workspace');
  await expect(link).toHaveText(/^Morning triage · \d{4}-\d\d-\d\d \d\d:\d\d$/);
  const [execution] = await api(ff, 'GET', `/api/schedules/${saved.id}/executions`);
  await expect(link).toHaveAttribute('href', `/workspaces/${execution.workspaceId}`);

  await row.getByTestId('schedule-enabled').uncheck();
  await expect(row.getByTestId('schedule-next')).toHaveText('Disabled');
  expect((await api(ff, 'GET', `/api/schedules/${saved.id}`)).nextDueAt).toBeNull();

  await link.click();
  await expect(page).toHaveURL(new RegExp(`/workspaces/${execution.workspaceId}$`));
  await expect(page.getByRole('heading', { name: /Morning triage/ })).toBeVisible();

  await page.goto(`${ff.url}/projects/${project}?settings`);
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  const kept = page.getByTestId('schedule');
  await kept.getByTestId('schedule-delete').click();
  await kept.getByTestId('schedule-delete-confirm').click();
  await expect(page.getByTestId('schedule')).toHaveCount(0);
  expect(await api(ff, 'GET', `/api/projects/${project}/schedules`)).toEqual([]);
  expect(problems).toEqual([]);
});
