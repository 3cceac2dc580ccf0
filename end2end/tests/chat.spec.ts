// The workspace page's chat with ff's scripted agent: streaming Markdown, permission cards, the
// queue, Stop, the pickers, the first prompt of a new workspace, and agent text kept inert.
import type { Page } from '@playwright/test';
import { newSession, readyWorkspace, useScriptedAgent } from './agents';
import { api, expect, startFf, test } from './ff';

const card = (page: Page, column: string, name: string) =>
  page.locator(`[data-column="${column}"] [data-testid="card"]`, { hasText: name });
const items = (page: Page, kind: string) => page.locator(`[data-testid="transcript"] [data-kind="${kind}"]`);

async function say(page: Page, text: string) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

test('a text turn streams into the chat as Markdown while its card goes from Working to ready', async ({ browser, ff, hydrated }) => {
  await useScriptedAgent(ff, {
    turns: [{ steps: [
      { text: '# The plan\n\n' }, { sleep: { ms: 800 } },
      { text: 'Some **bold** words' }, { sleep: { ms: 800 } },
      { text: ' and a list:\n\n- one\n- two\n\nThe end.' },
      { usage: { used: 1200, size: 200000, cost: { amount: 0.42, currency: 'USD' } } },
    ] }],
  });
  const { project, workspace } = await readyWorkspace(ff, 'Streaming');
  await newSession(ff, workspace.id);
  const [chat, board] = [await ff.newPage(browser), await ff.newPage(browser)];
  const problems: string[] = [];
  for (const page of [chat, board]) {
    page.on('console', (m) => ['error', 'warning'].includes(m.type()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
  }
  await hydrated(board, `${ff.url}/projects/${project}`);
  await hydrated(chat, `${ff.url}/workspaces/${workspace.id}`);
  await expect(card(board, 'WAITING', 'Streaming')).toContainText('Ready for next prompt');

  await say(chat, 'Plan the work');
  await expect(items(chat, 'user')).toHaveText(/Plan the work/);
  await expect(card(board, 'WORKING', 'Streaming')).toContainText('Agent working');
  // Markdown while it streams: the heading and the bold text are there before the rest.
  const reply = items(chat, 'agent');
  await expect(reply.locator('h1')).toHaveText('The plan');
  await expect(reply.locator('strong')).toHaveText('bold');
  await expect(reply).not.toContainText('The end.');
  await expect(reply.locator('li')).toHaveText(['one', 'two']);
  await expect(reply).toContainText('The end.');
  await expect(items(chat, 'stop')).toHaveText('Turn ended');
  await expect(chat.getByTestId('session-state')).toHaveText('Ready');
  await expect(card(board, 'WAITING', 'Streaming')).toContainText('Ready for next prompt');
  await expect(board.locator('[data-column="WORKING"] [data-testid="card"]')).toHaveCount(0);
  await expect(card(board, 'WAITING', 'Streaming').getByTestId('cost')).toHaveText('$0.42');
  await expect(chat.getByTestId('usage')).toHaveText('Context: 1,200 of 200,000 tokens · $0.42');
  // Hydrated over the server's HTML without a mismatch or an error.
  expect(problems).toEqual([]);
});

test('the first HTML already holds the session tabs and the first session’s latest items', async ({ request, ff }) => {
  const agent = await useScriptedAgent(ff, { turns: [{ steps: [{ text: 'Rendered **on the server**' }] }] });
  const { project, workspace } = await readyWorkspace(ff, 'Server rendered chat');
  const session = await newSession(ff, workspace.id);
  await api(ff, 'POST', `/api/sessions/${session}/messages`, { text: 'hello there' });
  await expect.poll(() => agent.events('turn/end').length).toBe(1);
  await api(ff, 'POST', `/api/workspaces/${workspace.id}/sessions`, { name: 'Second thoughts' });
  await expect.poll(async () => (await api(ff, 'GET', `/api/sessions/${session}/items`)).length).toBe(3);
  // The tabs come from the snapshot, which follows the sessions within its coalescing window.
  await expect.poll(async () => (await api(ff, 'GET', `/api/projects/${project}/snapshot`)).entries[0].sessionSummaries.length).toBe(2);

  const html = await (await request.get(`${ff.url}/workspaces/${workspace.id}`, { headers: ff.auth })).text();
  expect(html.match(/data-testid="session-tab"/g)?.length).toBe(2);
  expect(html).toContain('Second thoughts');
  expect(html).toContain('hello there');
  expect(html).toContain('Rendered <strong>on the server</strong>');
  expect(html).toContain('Turn ended');
  expect(html).not.toContain('data-hydrated');
});

test('a permission card is answered with the keyboard, and the next one with a click', async ({ page, ff, hydrated }) => {
  const permission = (id: string, title: string) => [
    { toolCall: { toolCallId: id, title, kind: 'edit', status: 'pending',
      content: [{ type: 'diff', path: 'notes.md', oldText: 'old line\n', newText: 'new line\n' }] } },
    { permission: { toolCall: { toolCallId: id, title, kind: 'edit' }, onReject: 'stop' } },
    { toolCallUpdate: { toolCallId: id, status: 'completed' } },
    { text: `${title}: done` },
  ];
  const agent = await useScriptedAgent(ff, { turns: [
    { steps: permission('t1', 'Write notes.md') },
    { steps: permission('t2', 'Write todo.md') },
  ] });
  const { workspace } = await readyWorkspace(ff, 'Permissions');
  await newSession(ff, workspace.id);
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);

  await say(page, 'Write the notes');
  const request = page.getByTestId('permission-card');
  await expect(request).toContainText('Write notes.md');
  await expect(request.getByTestId('diff')).toContainText('+new line');
  // The first option has the focus: Enter answers.
  const allow = request.locator('[data-option="allow"]');
  await expect(allow).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(request).toHaveCount(0);
  await expect(items(page, 'agent')).toHaveText('Write notes.md: done');
  await expect(items(page, 'permission').getByTestId('permission-outcome')).toHaveText('Allow, by you');
  expect(agent.events('permission')[0].optionId).toBe('allow');

  await say(page, 'Now the todo list');
  await expect(request).toContainText('Write todo.md');
  await request.locator('[data-option="reject"]').click();
  await expect(items(page, 'stop')).toHaveCount(2);
  await expect(items(page, 'permission').nth(1).getByTestId('permission-outcome')).toHaveText('Reject, by you');
  await expect(page.getByText('Write todo.md: done')).toHaveCount(0);
  expect(agent.events('permission')[1].optionId).toBe('reject');
});

test('a message sent while the agent works waits in the queue and can be cancelled', async ({ page, ff, hydrated }) => {
  const agent = await useScriptedAgent(ff, { turns: [{ steps: [{ text: 'Busy for a while' }, { sleep: { ms: 4000 } }] }] });
  const { workspace } = await readyWorkspace(ff, 'Queue');
  await newSession(ff, workspace.id);
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);

  await say(page, 'First job');
  await expect(page.getByTestId('session-state')).toHaveText('Working…');
  await expect(page.getByTestId('send')).toHaveText('Queue');
  await say(page, 'Second job, later');
  const queued = page.getByTestId('queued-message');
  await expect(queued).toHaveCount(1);
  await expect(queued).toContainText('Second job, later');
  await queued.getByTestId('cancel-queued').click();
  await expect(queued).toHaveCount(0);
  await expect(items(page, 'stop')).toHaveText('Turn ended', { timeout: 10_000 });
  // Only the first message ever reached the agent.
  await page.waitForTimeout(500);
  expect(agent.events('session/prompt').map((e) => e.text)).toEqual(['First job']);
});

test('Stop cancels a turn that hangs', async ({ page, ff, hydrated }) => {
  const agent = await useScriptedAgent(ff, { turns: [{ steps: [{ text: 'Thinking forever' }, { hang: {} }] }] });
  const { workspace } = await readyWorkspace(ff, 'Hung');
  await newSession(ff, workspace.id);
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);

  await say(page, 'Do something');
  await expect(items(page, 'agent')).toHaveText('Thinking forever');
  await page.getByTestId('stop-turn').click();
  await expect(items(page, 'stop')).toHaveText('Turn cancelled');
  await expect(page.getByTestId('session-state')).toHaveText('Ready');
  await expect(page.getByTestId('stop-turn')).toHaveCount(0);
  expect(agent.events('session/cancel').length).toBe(1);
});

test('the model and mode pickers change the session', async ({ page, ff, hydrated }) => {
  const agent = await useScriptedAgent(ff, {});
  const { workspace } = await readyWorkspace(ff, 'Pickers');
  const session = await newSession(ff, workspace.id);
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);
  // Refused in the page, in the server's words, and nothing is sent.
  await say(page, '   ');
  await expect(page.getByTestId('composer-error')).toHaveText('text must not be empty');
  await say(page, 'x'.repeat(100_001));
  await expect(page.getByTestId('composer-error')).toHaveText('text is 100001 characters long; at most 100000 are accepted');
  await say(page, 'hello');
  await expect(page.getByTestId('composer-error')).toBeEmpty();
  await expect(items(page, 'stop')).toHaveText('Turn ended');
  expect(agent.events('session/prompt').map((e) => e.text)).toEqual(['hello']);

  const model = page.getByTestId('model-picker');
  await expect(model).toHaveValue('scripted-fast');
  await model.selectOption('scripted-smart');
  await expect(items(page, 'config')).toHaveText('Model: scripted-smart');
  await expect(model).toHaveValue('scripted-smart');
  const mode = page.getByTestId('mode-picker');
  await mode.selectOption('plan');
  await expect(items(page, 'config').nth(1)).toHaveText('Mode: plan');
  const now = await api(ff, 'GET', `/api/sessions/${session}`);
  expect([now.model, now.mode]).toEqual(['scripted-smart', 'plan']);
  expect(agent.events('session/set_config_option')[0].value).toBe('scripted-smart');
  expect(agent.events('session/set_mode')[0].modeId).toBe('plan');
});

test('a workspace created with a prompt starts its agent by itself', async ({ page, ff, hydrated }) => {
  const agent = await useScriptedAgent(ff, { turns: [{ steps: [{ sleep: { ms: 1500 } }, { text: 'Started on my own' }] }] });
  const { project } = await readyWorkspace(ff, 'Existing');
  await hydrated(page, `${ff.url}/projects/${project}`);

  await page.getByTestId('new-workspace').click();
  await page.getByTestId('name').fill('Prompted');
  await page.getByTestId('prompt').fill('Fix the login form');
  await expect(page.getByTestId('agent')).toContainText('scripted (default)');
  await page.getByTestId('create-submit').click();
  await expect(card(page, 'WORKING', 'Prompted')).toContainText('Agent working', { timeout: 20_000 });
  await expect(card(page, 'WAITING', 'Prompted')).toContainText('Ready for next prompt', { timeout: 20_000 });
  expect(agent.events('session/prompt').map((e) => e.text)).toEqual(['Fix the login form']);

  await card(page, 'WAITING', 'Prompted').click();
  await expect(page.getByTestId('session-tab')).toHaveCount(1);
  await expect(items(page, 'user')).toHaveText(/Fix the login form/);
  await expect(items(page, 'agent')).toHaveText('Started on my own');
});

test('agent text with a script, an event handler and a javascript: link stays inert', async ({ page, ff, hydrated }) => {
  await useScriptedAgent(ff, { turns: [{ steps: [{ text:
    'Look: <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> ' +
    '[click me](javascript:window.__pwned=3) and <a href="javascript:window.__pwned=4">raw</a>' }] }] });
  const { workspace } = await readyWorkspace(ff, 'Inert');
  await newSession(ff, workspace.id);
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);
  await say(page, 'Say something nasty');

  const reply = items(page, 'agent');
  await expect(reply).toContainText('<script>window.__pwned = 1</script>');
  await expect(reply).toContainText('<img src=x onerror="window.__pwned = 2">');
  await expect(reply.locator('script, img, [onerror]')).toHaveCount(0);
  const link = reply.getByRole('link', { name: 'click me' });
  await expect(link).toHaveAttribute('href', '#');
  await link.click();
  await page.reload();
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
  await expect(items(page, 'agent').locator('script, img, a[href^="javascript"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
});

test('older items page in with “Load earlier”', async ({ page, ff, hydrated }) => {
  const steps = Array.from({ length: 250 }, (_, n) => ({ toolCall: { toolCallId: `t${n}`, title: `Step ${n}`, kind: 'read', status: 'completed' } }));
  await useScriptedAgent(ff, { turns: [{ steps }] });
  const { workspace } = await readyWorkspace(ff, 'Long');
  const session = await newSession(ff, workspace.id);
  await api(ff, 'POST', `/api/sessions/${session}/messages`, { text: 'Go' });
  await expect.poll(async () => (await api(ff, 'GET', `/api/sessions/${session}/items?limit=1000`)).length, { timeout: 15_000 }).toBe(252);
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);

  await expect(items(page, 'tool')).toHaveCount(199);
  await expect(items(page, 'user')).toHaveCount(0);
  await page.getByTestId('load-earlier').click();
  await expect(items(page, 'tool')).toHaveCount(250);
  await expect(items(page, 'user')).toHaveText(/Go/);
  await expect(page.getByTestId('load-earlier')).toHaveCount(0);
  await expect(items(page, 'tool').first()).toContainText('Step 0');
});

test('a session’s agent stops and starts from the page, and a deleted session leaves its tabs', async ({ page, ff, hydrated }) => {
  const agent = await useScriptedAgent(ff, {});
  const { workspace } = await readyWorkspace(ff, 'Lifecycle');
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);
  await expect(page.getByTestId('no-session')).toBeVisible();
  await page.getByTestId('new-session').click();
  await page.getByTestId('new-session-submit').click();
  await expect(page.getByTestId('session-tab')).toHaveCount(1);
  await expect(page.getByTestId('session-state')).toHaveText('Agent not running');

  await page.getByTestId('session-start').click();
  await expect(page.getByTestId('session-state')).toHaveText('Ready');
  await expect.poll(() => agent.events('session/new').length).toBe(1);
  await page.getByTestId('session-stop').click();
  await expect(page.getByTestId('session-state')).toHaveText('Agent not running');
  const [session] = await api(ff, 'GET', `/api/workspaces/${workspace.id}/sessions`);
  expect(session.status).toBe('IDLE');

  await page.getByTestId('new-session').click();
  await page.getByTestId('new-session-submit').click();
  await expect(page.getByTestId('session-tab')).toHaveCount(2);
  await expect(page.getByTestId('session-tab').nth(1)).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('session-tab').nth(1)).toContainText('Chat 2');
  await page.getByTestId('session-delete').click();
  await page.getByTestId('delete-confirm-button').click();
  await expect(page.getByTestId('session-tab')).toHaveCount(1);
  await expect(page.getByTestId('session-tab')).toContainText('Chat 1');
  await expect(page.getByTestId('session-tab')).toHaveAttribute('aria-selected', 'true');
  expect((await api(ff, 'GET', `/api/workspaces/${workspace.id}/sessions`)).length).toBe(1);
});

test('a dropped chat socket resumes where it was: nothing missed, nothing twice', async ({ page, ff, hydrated }) => {
  await useScriptedAgent(ff, { turns: [{ steps: [{ text: 'first reply' }] }, { steps: [{ text: 'second reply' }] }] });
  const { workspace } = await readyWorkspace(ff, 'Resume');
  const session = await newSession(ff, workspace.id);
  const urls: string[] = [];
  let drop = () => {};
  await page.routeWebSocket(/\/ws\/sessions\//, async (ws) => {
    urls.push(ws.url());
    if (urls.length === 1) {
      drop = () => ws.close();
    } else {
      // Held back while the agent answers, so that the resumed socket has something to replay.
      await new Promise((r) => setTimeout(r, 2000));
    }
    ws.connectToServer();
  });
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);
  await say(page, 'one');
  await expect(items(page, 'agent')).toHaveText('first reply');

  drop();
  await expect(page.getByTestId('chat-reconnecting')).toBeVisible();
  await api(ff, 'POST', `/api/sessions/${session}/messages`, { text: 'two' });
  await expect(items(page, 'agent')).toHaveText(['first reply', 'second reply'], { timeout: 15_000 });
  await expect(items(page, 'user')).toHaveText([/one/, /two/]);
  await expect(items(page, 'stop')).toHaveCount(2);
  expect(urls.length).toBe(2);
  // The first socket starts after what the server-rendered page held (nothing yet, or the
  // session's first entries, depending on timing); the second resumes after what it delivered.
  const cursor = (url: string) => /since=([0-9a-f]+):(\d+)$/.exec(url);
  const [first, resumed] = [cursor(urls[0]), cursor(urls[1])];
  expect(resumed, urls[1]).not.toBeNull();
  if (first) {
    expect(resumed![1]).toBe(first[1]);
    expect(Number(resumed![2])).toBeGreaterThan(Number(first[2]));
  }
});

test('after a restart of ff the chat reconnects and shows what happened meanwhile', async ({ page, hydrated }) => {
  const first = await startFf();
  await first.login(page.context());
  await useScriptedAgent(first, { turns: [{ steps: [{ text: 'before the restart' }] }, { steps: [{ text: 'after the restart' }] }] });
  const { workspace } = await readyWorkspace(first, 'Restarted');
  const session = await newSession(first, workspace.id);
  await hydrated(page, `${first.url}/workspaces/${workspace.id}`);
  await say(page, 'one');
  await expect(items(page, 'agent')).toHaveText('before the restart');

  await first.stop();
  await expect(page.getByTestId('chat-reconnecting')).toBeVisible();
  const second = await startFf({ dataDir: first.dataDir, port: first.port });
  try {
    await api(second, 'POST', `/api/sessions/${session}/messages`, { text: 'two' });
    await expect(items(page, 'agent')).toHaveText(['before the restart', 'after the restart'], { timeout: 20_000 });
    await expect(page.getByTestId('chat-reconnecting')).toHaveCount(0);
  } finally {
    await second.stop();
  }
});

test('sessions waiting for a free agent slot say where they are in line', async ({ browser, hydrated }) => {
  const ff = await startFf({ env: { FF_MAX_RUNNING_AGENTS: '1' } });
  try {
    await useScriptedAgent(ff, { turns: [{ steps: [{ hang: {} }] }] });
    const { project, workspace: busy } = await readyWorkspace(ff, 'Busy');
    const workspaces = [];
    for (const name of ['Next', 'Last']) {
      const id = (await api(ff, 'POST', `/api/projects/${project}/workspaces`, { source: 'MANUAL', name })).id;
      await expect.poll(async () => (await api(ff, 'GET', `/api/workspaces/${id}`)).status).toBe('READY');
      workspaces.push(id);
    }
    const running = await newSession(ff, busy.id);
    const [next, last] = [await newSession(ff, workspaces[0]), await newSession(ff, workspaces[1])];
    await api(ff, 'POST', `/api/sessions/${running}/messages`, { text: 'hang' });
    await expect.poll(async () => (await api(ff, 'GET', `/api/sessions/${running}`)).runtime.working).toBe(true);
    await api(ff, 'POST', `/api/sessions/${next}/messages`, { text: 'after you' });
    await expect.poll(async () => (await api(ff, 'GET', `/api/sessions/${next}`)).runtime.queuedBehind).toBe(0);

    const [chat, board] = [await ff.newPage(browser), await ff.newPage(browser)];
    await hydrated(board, `${ff.url}/projects/${project}`);
    await hydrated(chat, `${ff.url}/workspaces/${workspaces[1]}`);
    await say(chat, 'my turn?');
    await expect(chat.getByTestId('session-state')).toHaveText('Waiting for a free agent slot: queued behind 1');
    const queued = (name: string) => board.locator('[data-testid="card"]', { hasText: name }).getByTestId('queued');
    // What it waits for and since when, in core's words.
    await expect(queued('Last')).toHaveText(/^Waiting for a free agent slot, 1 ahead, since \d\d:\d\d:\d\d$/);
    await expect(queued('Next')).toHaveText(/^Waiting for a free agent slot since \d\d:\d\d:\d\d$/);

    await api(ff, 'POST', `/api/sessions/${running}/cancel`);
    await expect(items(chat, 'agent')).toHaveText('ok', { timeout: 15_000 });
    await expect(board.getByTestId('queued')).toHaveCount(0);
    expect((await api(ff, 'GET', `/api/sessions/${last}`)).runtime.queuedBehind).toBeNull();
  } finally {
    await ff.stop();
  }
});

test('a rate-limited turn shows until when the session waits before trying again', async ({ page, ff, hydrated }) => {
  await useScriptedAgent(ff, { turns: [
    { steps: [{ error: { code: -32603, message: 'API Error: 429', data: { error: { type: 'rate_limit_error' } } } }] },
    { steps: [{ text: 'got through' }] },
  ] });
  const { workspace } = await readyWorkspace(ff, 'Limited');
  await newSession(ff, workspace.id);
  await hydrated(page, `${ff.url}/workspaces/${workspace.id}`);
  await say(page, 'try');
  await expect(page.getByTestId('session-state')).toHaveText(/^Paused until \d\d:\d\d:\d\d UTC \(the model API is rate limited\)$/);
  await expect(items(page, 'notice')).toContainText('trying again in 5 s');
  await expect(items(page, 'agent')).toHaveText('got through', { timeout: 15_000 });
  await expect(page.getByTestId('session-state')).toHaveText('Ready');
});
