// Reviewing an agent's work (review.md): the changes page driven by keyboard only, line comments
// sent to the scripted agent, "lines changed since" after its next edit, and overlap marks.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { addProject, api, createWorkspace, expect, makeRepo, test, waitForStatus } from './ff';

const ffBinary = process.env.FF_BIN ?? resolve(__dirname, '../../target/debug/ff');
const agentBinary = join(dirname(ffBinary), 'ff-scripted-agent');

/** The scripted ACP agent as the default agent of `ff`, playing `turns`; returns its log path. */
async function scriptedAgent(ff: { url: string }, turns: unknown[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-e2e-agent-'));
  mkdirSync(join(dir, 'state'));
  writeFileSync(join(dir, 'script.json'), JSON.stringify({ turns }));
  const log = join(dir, 'log.jsonl');
  await api(ff as any, 'PATCH', '/api/settings', {
    agentServers: {
      scripted: {
        command: agentBinary,
        env: {
          FF_SCRIPTED_AGENT_SCRIPT: join(dir, 'script.json'),
          FF_SCRIPTED_AGENT_LOG: log,
          FF_SCRIPTED_AGENT_STATE: join(dir, 'state'),
        },
      },
    },
    defaultAgent: 'scripted',
  });
  return log;
}

function prompts(log: string): string[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line))
    .filter((event) => event.event === 'session/prompt')
    .map((event) => event.text as string);
}

const APP_V1 = ['export function greet(name: string): string {', '  const greeting = "Hello";', '  return `${greeting}, ${name}`;', '}', '', 'export const answer = 42;', ''].join('\n');
const APP_V2 = APP_V1.replace('  return `${greeting}, ${name}`;', '  return `${greeting}, ${name}!`;');

async function focusedLine(page: Page) {
  return page.locator('[data-testid="diff-line"]:focus');
}

test('keyboard only: move between files and hunks, comment on two files, send to the agent, see its edit', async ({ page, ff, hydrated }) => {
  test.setTimeout(60_000);
  const log = await scriptedAgent(ff, [
    { steps: [{ edit: { path: 'README.md', content: 'hello\nworld\n' } }, { edit: { path: 'src/app.ts', content: APP_V1 } }, { text: 'Done.' }] },
    { steps: [{ edit: { path: 'src/app.ts', content: APP_V2 } }, { text: 'Fixed.' }] },
  ]);
  const project = await addProject(ff, makeRepo());
  const { id } = await api(ff, 'POST', `/api/projects/${project}/workspaces`, { source: 'MANUAL', name: 'Greeter', initialPrompt: 'Write a greeter' });
  await waitForStatus(ff, id, 'READY');
  await expect.poll(async () => (await api(ff, 'GET', `/api/workspaces/${id}/diff`)).files.length, { timeout: 20_000 }).toBe(2);

  await hydrated(page, `${ff.url}/workspaces/${id}/changes`);
  const announcement = page.getByTestId('announcement');
  await expect(page.getByTestId('file-diff')).toHaveAttribute('data-path', 'README.md');
  await expect(page.getByTestId('file').first()).toContainText('+1');

  // First file: the first hunk, then down to the added line, and a comment on it.
  await page.keyboard.press('n');
  await expect(announcement).toContainText('Hunk 1 of 1');
  await page.keyboard.press('ArrowDown');
  await expect(await focusedLine(page)).toContainText('world');
  await expect(announcement).toContainText('Line 2, added: world');
  await page.keyboard.press('c');
  await expect(page.getByTestId('comment-body')).toBeFocused();
  await page.keyboard.type('Say who is greeted.');
  await page.keyboard.press('Control+Enter');
  await expect(page.locator('[data-testid="comment"][data-state="DRAFT"]')).toContainText('Say who is greeted.');

  // Next file: two lines selected with Shift, then a comment on the range.
  await page.keyboard.press('j');
  await expect(page.getByTestId('file-diff')).toHaveAttribute('data-path', 'src/app.ts');
  await expect(announcement).toContainText('File 2 of 2: src/app.ts');
  await page.keyboard.press('n');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Shift+ArrowDown');
  await expect(announcement).toContainText('lines 3–4 selected');
  await page.keyboard.press('c');
  await expect(page.getByTestId('comment-body')).toBeFocused();
  await page.keyboard.type('Add punctuation.');
  await page.keyboard.press('Control+Enter');
  await expect(page.locator('[data-testid="comment"][data-state="DRAFT"]')).toContainText('Add punctuation.');

  // Back and forth between files keeps both comments.
  await page.keyboard.press('k');
  await expect(page.getByTestId('file-diff')).toHaveAttribute('data-path', 'README.md');
  await expect(page.getByTestId('comment')).toContainText('Say who is greeted.');
  await page.keyboard.press('j');
  await expect(page.getByTestId('file-diff')).toHaveAttribute('data-path', 'src/app.ts');

  // Send: one message naming both files and lines, with the code quoted.
  await expect(page.getByTestId('send-review')).toHaveText('Send 2 comment(s) to the agent');
  await page.keyboard.press('s');
  await expect(page.getByTestId('send-review')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-testid="comment"][data-state="SENT"]')).toContainText('Add punctuation.');
  await expect(page.locator('[data-testid="comment-state"]')).toHaveText('Sent');
  await expect.poll(() => prompts(log).length, { timeout: 20_000 }).toBe(2);
  const message = prompts(log)[1];
  for (const expected of ['File "README.md", line 2', 'world', 'Say who is greeted.', 'File "src/app.ts", lines 3–4', '  return `${greeting}, ${name}`;', 'Add punctuation.']) {
    expect(message).toContain(expected);
  }

  // The agent changes one of those lines: the page says so without a reload.
  await expect(page.getByTestId('changed-since')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('changed-since')).toHaveText('lines changed since');
  mkdirSync('artifacts', { recursive: true });
  await page.screenshot({ path: 'artifacts/review-changes.png', fullPage: true });
  await page.keyboard.press('k');
  await expect(page.getByTestId('file-diff')).toHaveAttribute('data-path', 'README.md');
  await expect(page.locator('[data-testid="comment"][data-state="SENT"]')).toContainText('Say who is greeted.');
  await expect(page.getByTestId('changed-since')).toHaveCount(0);
});

test('the first load of the changes page already has the files, the hunks and the highlighting', async ({ request, ff }) => {
  const project = await addProject(ff, makeRepo());
  const id = await createWorkspace(ff, project, 'Static');
  const { worktreePath } = await waitForStatus(ff, id, 'READY');
  mkdirSync(join(worktreePath, 'src'), { recursive: true });
  writeFileSync(join(worktreePath, 'src', 'lib.rs'), 'pub fn answer() -> u32 {\n    42\n}\n');
  writeFileSync(join(worktreePath, 'README.md'), 'hello\n<b>not markup</b>\n');
  const html = await (await request.get(`${ff.url}/workspaces/${id}/changes?path=src/lib.rs`, { headers: ff.auth })).text();
  expect(html).toContain('data-path="src/lib.rs"');
  expect(html).toContain('data-testid="file" data-path="README.md"');
  // `<!>` is a hydration marker Leptos writes after a text node; it is not content.
  expect(html).toMatch(/<span class="tok-keyword">fn(<!>)?<\/span>/);
  const readme = await (await request.get(`${ff.url}/workspaces/${id}/changes?path=README.md`, { headers: ff.auth })).text();
  // File contents are text: highlighted or not, never markup.
  expect(readme).toContain('&lt;');
  expect(readme).toContain('not markup&lt;/');
  expect(readme).not.toContain('<b>not markup</b>');
  expect(readme).not.toContain('<b>');
});

test('two workspaces editing the same file are marked on both cards until one reverts; another project never counts', async ({ page, ff, hydrated }) => {
  const project = await addProject(ff, makeRepo());
  const other = await addProject(ff, makeRepo());
  const login = await createWorkspace(ff, project, 'Fix login');
  const search = await createWorkspace(ff, project, 'Add search');
  const elsewhere = await createWorkspace(ff, other, 'Elsewhere');
  const trees: Record<string, string> = {};
  for (const id of [login, search, elsewhere]) trees[id] = (await waitForStatus(ff, id, 'READY')).worktreePath;
  await hydrated(page, `${ff.url}/projects/${project}`);
  const mark = (id: string) => page.locator(`[data-testid="card"][data-workspace="${id}"] [data-testid="overlap"]`);
  const sideMark = (id: string) => page.locator(`[data-testid="sidebar-row"][data-workspace="${id}"] [data-testid="overlap"]`);

  writeFileSync(join(trees[login], 'README.md'), 'hello\nlogin\n');
  writeFileSync(join(trees[search], 'README.md'), 'hello\nsearch\n');
  writeFileSync(join(trees[elsewhere], 'README.md'), 'hello\nelsewhere\n');
  // One watch debounce (at most 1 s) and a measurement.
  await expect(mark(login)).toHaveText('1 file also changed in Add search', { timeout: 3_000 });
  await expect(mark(search)).toHaveText('1 file also changed in Fix login', { timeout: 3_000 });
  await expect(sideMark(login)).toHaveText('1 file also changed in Add search');

  const overlaps = await api(ff, 'GET', `/api/projects/${other}/snapshot`);
  expect(overlaps.entries.find((e: any) => e.workspaceId === elsewhere).overlaps).toEqual([]);

  await page.goto(`${ff.url}/workspaces/${login}`);
  await expect(page.getByTestId('overlap-item')).toContainText('Add search');
  await expect(page.getByTestId('overlap-item').getByRole('link', { name: 'this diff' })).toHaveAttribute('href', `/workspaces/${login}/changes?path=README.md`);
  await expect(page.getByTestId('overlap-item').getByRole('link', { name: "Add search's diff" })).toHaveAttribute('href', `/workspaces/${search}/changes?path=README.md`);

  await hydrated(page, `${ff.url}/projects/${project}`);
  writeFileSync(join(trees[search], 'README.md'), 'hello\n');
  await expect(mark(login)).toHaveCount(0, { timeout: 3_000 });
  await expect(mark(search)).toHaveCount(0, { timeout: 3_000 });
});
