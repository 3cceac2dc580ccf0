// GitHub on the board (issue 9): ff against the fake GitHub binary (`ff-fake-github`, the same
// fake the server's tests use), polled every second.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { newSession, useScriptedAgent } from './agents';
import { addProject, api, createWorkspace, expect, makeRepo, startFf, test, waitForStatus, type FfServer } from './ff';

const fakeBinary = process.env.FF_FAKE_GITHUB_BIN ?? resolve(__dirname, '../../target/debug/ff-fake-github');
const contractDir = resolve(__dirname, '../../target/github-contract');
const TOKEN = 'e2e-token';

type Fake = { url: string; child: ChildProcess };

async function startFake(): Promise<Fake> {
  const child = spawn(fakeBinary, ['--token', TOKEN, '--contract-dir', contractDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /fake github at (http:\/\/\S+)/.exec(out);
      if (match) done(match[1]);
    });
    child.on('error', (e) => fail(new Error(`cannot start ${fakeBinary}: ${e.message}`)));
    child.on('exit', (code) => fail(new Error(`the fake exited with ${code}`)));
  });
  return { url, child };
}

async function world(fake: Fake): Promise<any> {
  return (await fetch(`${fake.url}/_fake/world`)).json();
}

async function putWorld(fake: Fake, next: any) {
  const response = await fetch(`${fake.url}/_fake/world`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(next),
  });
  expect(response.status).toBe(204);
}

/** The commit `branch` points at in the project's clone: a PR is discovered only when its head
 * commit is one the clone has. */
async function headOf(ff: FfServer, project: string, branch: string): Promise<string> {
  const { repoPath } = await api(ff, 'GET', `/api/projects/${project}`);
  return execFileSync('git', ['-C', repoPath, 'rev-parse', `refs/heads/${branch}`]).toString().trim();
}

/** A PR of acme/app from `branch` at commit `headOid`, CI passed. */
function pullRequest(number: number, branch: string, headOid: string) {
  const now = new Date().toISOString();
  return {
    number,
    title: `Work on ${branch}`,
    head: branch,
    headOwner: 'acme',
    base: 'main',
    state: 'OPEN',
    draft: false,
    reviewDecision: 'REVIEW_REQUIRED',
    mergeable: 'MERGEABLE',
    mergeStateStatus: 'BLOCKED',
    headOid,
    checks: [{ name: 'test', workflow: 'CI', runId: 77, status: 'COMPLETED', conclusion: 'SUCCESS' }],
    reviews: [],
    threads: [],
    comments: 0,
    body: '',
    createdAt: now,
    updatedAt: now,
  };
}

const card = (page: Page, column: string, name: string) =>
  page.locator(`[data-column="${column}"] [data-testid="card"]`, { hasText: name });

async function githubProject(ff: FfServer): Promise<string> {
  const project = await addProject(ff, makeRepo());
  await api(ff, 'PATCH', `/api/projects/${project}`, { githubOwner: 'acme', githubRepo: 'app' });
  return project;
}

test('a PR merged on GitHub moves its card to Done without a reload', async ({ page, hydrated }) => {
  const fake = await startFake();
  const ff = await startFf({
    env: { FF_GITHUB_API_URL: fake.url, FF_GITHUB_TOKEN: TOKEN, FF_GITHUB_POLL_INTERVAL_MS: '1000' },
  });
  await ff.login(page.context());
  try {
    const project = await githubProject(ff);
    const id = await createWorkspace(ff, project, 'Ship the login fix');
    const branch = (await waitForStatus(ff, id, 'READY')).branchName;
    const state = await world(fake);
    state.repos = [{ owner: 'acme', name: 'app', defaultBranch: 'main', prs: [pullRequest(1, branch, await headOf(ff, project, branch))], issues: [] }];
    await putWorld(fake, state);

    await hydrated(page, `${ff.url}/projects/${project}`);
    const waiting = card(page, 'WAITING', 'Ship the login fix');
    await expect(waiting).toContainText('Ready to merge', { timeout: 10_000 });
    const link = waiting.getByTestId('pr-link');
    await expect(link).toHaveText('#1');
    await expect(link).toHaveAttribute('href', 'https://github.com/acme/app/pull/1');
    await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    await expect(waiting.getByTestId('ci-chip')).toHaveText('CI Passing');
    await expect(page.locator('[data-testid="sidebar-row"]', { hasText: 'Ship the login fix' }).getByTestId('pr-link')).toHaveText('#1');
    await expect(page.getByTestId('github-status')).toHaveCount(0);

    const merged = await world(fake);
    merged.repos[0].prs[0].state = 'MERGED';
    merged.repos[0].prs[0].updatedAt = new Date().toISOString();
    await putWorld(fake, merged);
    const done = card(page, 'DONE', 'Ship the login fix');
    await expect(done).toBeVisible({ timeout: 10_000 });
    // One status: the reason says Merged, no CI chip repeats it.
    await expect(done.getByTestId('reason')).toHaveText('Merged');
    await expect(done.getByTestId('ci-chip')).toHaveCount(0);
    await expect(card(page, 'WAITING', 'Ship the login fix')).toHaveCount(0);
    // Still the same page: nothing reloaded it.
    await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  } finally {
    await ff.stop();
    rmSync(ff.dataDir, { recursive: true, force: true });
    fake.child.kill();
  }
});

test('Create PR on the workspace page opens it on GitHub and shows it; the dialog picks an issue', async ({ page, hydrated }) => {
  const fake = await startFake();
  const ff = await startFf({
    env: { FF_GITHUB_API_URL: fake.url, FF_GITHUB_TOKEN: TOKEN, FF_GITHUB_POLL_INTERVAL_MS: '1000' },
  });
  await ff.login(page.context());
  try {
    const project = await githubProject(ff);
    const id = await createWorkspace(ff, project, 'Dark <b>mode</b>');
    await waitForStatus(ff, id, 'READY');
    const state = await world(fake);
    state.repos = [{
      owner: 'acme', name: 'app', defaultBranch: 'main', prs: [],
      issues: [{ number: 7, title: 'Crash on <script>alert(1)</script> save', body: 'steps', author: 'someone', assignees: [], labels: ['bug'], createdAt: new Date().toISOString() }],
    }];
    await putWorld(fake, state);

    await hydrated(page, `${ff.url}/workspaces/${id}?tab=pr`);
    await expect(page.getByTestId('pr-panel')).toContainText('No pull request yet.');
    await page.getByTestId('create-pr').click();
    const panel = page.getByTestId('pr-panel');
    // Issues and PRs share their numbers, as on GitHub: issue #7 exists.
    await expect(panel.getByTestId('pr-link')).toHaveText('#8', { timeout: 10_000 });
    await expect(panel.getByTestId('pr-checks')).toContainText('CI / test');
    await expect(page.getByTestId('create-pr')).toHaveCount(0);
    const opened = await world(fake);
    expect(opened.repos[0].prs[0].title).toBe('Dark <b>mode</b>');

    await hydrated(page, `${ff.url}/projects/${project}`);
    await page.getByTestId('new-workspace').click();
    await page.getByTestId('source-GITHUB_ISSUE').check();
    const option = page.getByTestId('issue-option');
    await expect(option).toHaveText('#7 Crash on <script>alert(1)</script> save');
    await option.click();
    await expect(page.getByTestId('issue-number')).toHaveValue('7');
    await expect(page.getByTestId('issue-url')).toHaveValue('https://github.com/acme/app/issues/7');
    await expect(page.getByTestId('name')).toHaveValue('Crash on <script>alert(1)</script> save');
  } finally {
    await ff.stop();
    rmSync(ff.dataDir, { recursive: true, force: true });
    fake.child.kill();
  }
});

test('the ratchet on the workspace page: a failing run gets one fixer, its transcript is a click away, a push makes it ready to merge', async ({ page, hydrated }) => {
  const fake = await startFake();
  const gates = mkdtempSync(join(tmpdir(), 'ff-e2e-gates-'));
  const ff = await startFf({
    env: { FF_GITHUB_API_URL: fake.url, FF_GITHUB_TOKEN: TOKEN, FF_GITHUB_POLL_INTERVAL_MS: '1000' },
  });
  await ff.login(page.context());
  try {
    // The fixer works until the test has "pushed" its fix.
    await useScriptedAgent(ff, { turns: [{ steps: [
      { text: 'Looking at the failure.' },
      { waitFile: { path: join(gates, 'pushed') } },
      { text: 'Pushed the fix.' },
    ] }] });
    const project = await githubProject(ff);
    const id = await createWorkspace(ff, project, 'Flaky build');
    const branch = (await waitForStatus(ff, id, 'READY')).branchName;
    // The person's own session comes first; the fixer's is the second tab.
    const own = await newSession(ff, id);
    const pr = pullRequest(1, branch, await headOf(ff, project, branch));
    pr.checks = [{ name: 'test', workflow: 'CI', runId: 91, status: 'COMPLETED', conclusion: 'FAILURE', log: 'compiling\nerror: the <b>build</b> broke\n' } as any];
    const state = await world(fake);
    state.repos = [{ owner: 'acme', name: 'app', defaultBranch: 'main', prs: [pr], issues: [] }];
    await putWorld(fake, state);

    await hydrated(page, `${ff.url}/workspaces/${id}?tab=autofix`);
    const panel = page.getByTestId('ratchet-panel');
    await expect(panel.getByTestId('ratchet-last')).toHaveText('Off.');
    await expect(panel.getByTestId('ratchet-check')).toBeDisabled();
    await panel.getByTestId('ratchet').check();

    await expect(page.locator('.workspace-head')).toContainText('Fixing CI failures', { timeout: 15_000 });
    const row = panel.getByTestId('ratchet-dispatch');
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('Running');
    await expect(panel.getByTestId('ratchet-last')).toContainText(/Fixer (dispatched|at work)/);
    await panel.getByTestId('ratchet-fixer').getByRole('link').click();
    await expect(page).toHaveURL(/\?session=/);
    const fixer = new URL(page.url()).searchParams.get('session')!;
    expect(fixer).not.toBe(own);
    await expect(page.locator(`[data-testid="session-tab"][data-session="${fixer}"]`)).toHaveAttribute('aria-selected', 'true');
    const prompt = page.locator('[data-testid="transcript"] [data-kind="user"]').first();
    await expect(prompt).toContainText('"conclusion": "FAILURE"');
    // The log is GitHub's text, shown as text.
    await expect(prompt).toContainText('error: the <b>build</b> broke');

    const fixed = await world(fake);
    fixed.repos[0].prs[0].checks[0].conclusion = 'SUCCESS';
    fixed.repos[0].prs[0].checks[0].runId = 92;
    fixed.repos[0].prs[0].updatedAt = new Date().toISOString();
    await putWorld(fake, fixed);
    await expect(page.getByTestId('ci-chip').first()).toHaveText('CI Passing', { timeout: 15_000 });
    writeFileSync(join(gates, 'pushed'), '');
    await expect(page.locator('.workspace-head')).toContainText('Ready to merge', { timeout: 15_000 });
    await expect(row).toContainText('Finished');
    // The fixer's link showed its chat; the Auto-fix tab is one click away.
    await page.locator('[data-testid="panel-tab"][data-tab="autofix"]').click();
    await panel.getByTestId('ratchet-check').click();
    await expect(panel.getByTestId('ratchet-last')).toContainText('Waiting');
    await expect(row).toHaveCount(1);
  } finally {
    await ff.stop();
    rmSync(ff.dataDir, { recursive: true, force: true });
    rmSync(gates, { recursive: true, force: true });
    fake.child.kill();
  }
});

test('without a token the board says plainly how to connect GitHub', async ({ page, hydrated }) => {
  const ff = await startFf({
    env: { FF_GITHUB_API_URL: 'http://127.0.0.1:9', FF_GITHUB_TOKEN: '', GH_TOKEN: '', GITHUB_TOKEN: '', PATH: '/usr/bin:/bin' },
  });
  await ff.login(page.context());
  try {
    const project = await githubProject(ff);
    const response = await page.request.get(`${ff.url}/projects/${project}`);
    expect(await response.text()).toContain('data-testid="github-status"');
    await hydrated(page, `${ff.url}/projects/${project}`);
    const line = page.getByTestId('github-status');
    await expect(line).toContainText('GitHub is not connected for github.com');
    await expect(line).toContainText('GH_TOKEN');
    await expect(page.getByRole('alertdialog')).toHaveCount(0);
  } finally {
    await ff.stop();
    rmSync(ff.dataDir, { recursive: true, force: true });
  }
});
