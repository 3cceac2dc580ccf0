// Child workspaces an agent creates through ff's MCP tools (issue 19 §1): the board card and the
// list row say whose child it is, archiving a parent asks what becomes of its live children,
// and how many children one session may create is a setting.
import { api, expect, test, waitForStatus, type FfServer } from './ff';
import { readyWorkspace, useScriptedAgent, type ScriptedAgent } from './agents';

/** An MCP client speaking Streamable HTTP to `/mcp` with an agent session's credential. */
async function mcpClient(ff: FfServer, credential: string) {
  let session: string | undefined;
  let id = 0;
  const rpc = async (method: string, params: unknown, notification = false) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${credential}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    if (session) headers['mcp-session-id'] = session;
    const message = notification ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id: ++id, method, params };
    const response = await fetch(`${ff.url}/mcp`, { method: 'POST', headers, body: JSON.stringify(message) });
    session = response.headers.get('mcp-session-id') ?? session;
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} → ${response.status}: ${text}`);
    if (notification) return undefined;
    // A JSON answer, or server-sent events whose data lines carry the messages.
    const messages = (response.headers.get('content-type') ?? '').includes('text/event-stream')
      ? text
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .filter(Boolean)
          .map((data) => JSON.parse(data))
      : [JSON.parse(text)];
    const answer = messages.find((m) => m.id === id);
    if (!answer || answer.error) throw new Error(`${method}: ${text}`);
    return answer.result;
  };
  await rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } });
  await rpc('notifications/initialized', undefined, true);
  return {
    async createChild(name: string): Promise<string> {
      const result = await rpc('tools/call', { name: 'create_workspace', arguments: { name, prompt: `Do ${name}` } });
      if (result.isError) throw new Error(`create_workspace: ${JSON.stringify(result.content)}`);
      return result.structuredContent.workspace.id;
    },
  };
}

/** The credential ff gave the agent in its `index`th `session/new`. */
async function credentialOf(agent: ScriptedAgent, index: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const created = agent.events('session/new');
    if (created.length > index) {
      const header = created[index].mcpServers[0].headers[0].value as string;
      return header.replace(/^Bearer /, '');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the agent was never started');
}

/** A ready parent whose agent created ready children named `names`. */
async function family(ff: FfServer, parentName: string, names: string[]) {
  const agent = await useScriptedAgent(ff, { mcpHttp: true });
  const { project, workspace } = await readyWorkspace(ff, parentName);
  // A prompt starts the agent, which is when ff hands it its MCP credential.
  await api(ff, 'POST', `/api/workspaces/${workspace.id}/sessions`, { prompt: 'Split the work' });
  const client = await mcpClient(ff, await credentialOf(agent, 0));
  const children = [];
  for (const name of names) {
    const id = await client.createChild(name);
    await waitForStatus(ff, id, 'READY');
    children.push(id);
  }
  return { project, parent: workspace.id as string, children };
}

test('a child’s card and list row say “child of” its parent, escaped, linking to it', async ({ page, ff, hydrated }) => {
  const { project, parent, children } = await family(ff, 'Lead <b>&amp;</b>', ['Helper']);
  await hydrated(page, `${ff.url}/projects/${project}`);
  const card = page.locator(`[data-testid="card"][data-workspace="${children[0]}"]`);
  const link = card.getByTestId('parent-link');
  await expect(link).toHaveText('child of Lead <b>&amp;</b>');
  await expect(link).toHaveAttribute('href', `/workspaces/${parent}`);
  await expect(card.locator('b')).toHaveCount(0);
  await expect(page.locator(`[data-testid="card"][data-workspace="${parent}"]`).getByTestId('parent-link')).toHaveCount(0);
  // The link is above the card's own link: it opens the parent.
  await link.click();
  await expect(page).toHaveURL(`${ff.url}/workspaces/${parent}`);

  await hydrated(page, `${ff.url}/projects/${project}/list`);
  const row = page.locator(`[data-testid="row"][data-workspace="${children[0]}"]`);
  await expect(row.getByTestId('parent-link')).toHaveText('child of Lead <b>&amp;</b>');
});

test('archiving a parent with live children asks: cancel, or keep them (detach)', async ({ page, ff, hydrated }) => {
  const { parent, children } = await family(ff, 'Parent', ['First', 'Second']);
  await hydrated(page, `${ff.url}/workspaces/${parent}`);
  // The menu stays open after Cancel: open it only when it is closed.
  const open = async () => {
    if (!(await page.getByTestId('archive').isVisible())) await page.getByTestId('workspace-menu').locator('summary').click();
    await page.getByTestId('archive').click();
  };
  await open();
  const dialog = page.getByTestId('archive-confirm');
  await expect(dialog.getByTestId('archive-children')).toContainText('2 child workspaces');
  await expect(dialog.getByTestId('archive-with-children')).toHaveText('Archive its 2 child workspaces too');
  await expect(dialog.getByTestId('archive-confirm-button')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  expect((await api(ff, 'GET', `/api/workspaces/${parent}`)).status).toBe('READY');

  await open();
  await dialog.getByTestId('archive-detach-children').click();
  await expect(page.getByTestId('archived')).toBeVisible({ timeout: 20_000 });
  for (const child of children) {
    const detail = await api(ff, 'GET', `/api/workspaces/${child}`);
    expect(detail.status).toBe('READY');
    expect(detail.parent).toBeNull();
  }
});

test('archiving a parent with its children archives them all from the dialog', async ({ page, ff, hydrated }) => {
  const { parent, children } = await family(ff, 'Parent', ['Only child']);
  await hydrated(page, `${ff.url}/workspaces/${parent}`);
  await page.getByTestId('workspace-menu').locator('summary').click();
  await page.getByTestId('archive').click();
  await expect(page.getByTestId('archive-children')).toContainText('1 child workspace that is still live');
  await page.getByTestId('archive-with-children').click();
  await expect(page.getByTestId('archived')).toBeVisible({ timeout: 20_000 });
  await waitForStatus(ff, children[0], 'ARCHIVED');
});

test('the child allowance is a setting on /settings that saves, and refuses what is out of range', async ({ page, ff, hydrated }) => {
  await hydrated(page, `${ff.url}/settings`);
  const field = page.getByTestId('max-children-per-session');
  await expect(field).toHaveValue('5');
  await field.fill('2');
  await field.press('Tab');
  await expect(page.getByTestId('settings-saved')).toHaveText('Saved');
  expect((await api(ff, 'GET', '/api/settings')).maxChildrenPerSession).toBe(2);
  await field.fill('51');
  await field.press('Tab');
  await expect(page.getByTestId('settings-error')).toContainText('maxChildrenPerSession');
  expect((await api(ff, 'GET', '/api/settings')).maxChildrenPerSession).toBe(2);
  await page.reload();
  await expect(page.getByTestId('max-children-per-session')).toHaveValue('2');
});
