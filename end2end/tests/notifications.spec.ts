// Browser notifications from the board while the page is in the background.
import { newSession, readyWorkspace, useScriptedAgent } from './agents';
import { api, expect, test } from './ff';

test('a hidden board notifies when a workspace needs permission and when its turn ends, a visible one does not', async ({ page, ff, hydrated }) => {
  // The page's visibility and the Notification constructor, under the test's control.
  await page.addInitScript(() => {
    const w = window as any;
    w.__hidden = false;
    w.__notes = [];
    Object.defineProperty(Document.prototype, 'hidden', { get: () => w.__hidden });
    w.Notification = class {
      static get permission() { return 'granted'; }
      static requestPermission() { return Promise.resolve('granted'); }
      onclick: unknown = null;
      constructor(title: string, options: { body?: string; tag?: string }) {
        w.__notes.push({ title, body: options?.body, tag: options?.tag });
      }
    };
    localStorage.setItem('ff.notifications', 'on');
  });
  await useScriptedAgent(ff, { turns: [
    { steps: [{ text: 'seen while visible' }] },
    { steps: [{ permission: { toolCall: { toolCallId: 't1', title: 'Run the tests', kind: 'execute' } } }, { text: 'done' }] },
  ] });
  const { project, workspace } = await readyWorkspace(ff, 'Background');
  const session = await newSession(ff, workspace.id);
  await hydrated(page, `${ff.url}/projects/${project}`);
  const notes = () => page.evaluate(() => (window as any).__notes);

  const stops = async () => (await api(ff, 'GET', `/api/sessions/${session}/items`)).filter((i: any) => i.kind === 'stop').length;
  await api(ff, 'POST', `/api/sessions/${session}/messages`, { text: 'one' });
  await expect.poll(stops).toBe(1);
  await page.waitForTimeout(500);
  expect(await notes()).toEqual([]);

  await page.evaluate(() => ((window as any).__hidden = true));
  await api(ff, 'POST', `/api/sessions/${session}/messages`, { text: 'two' });
  await expect(page.getByTestId('card').getByTestId('reason')).toHaveText('Needs permission');
  await expect.poll(notes).toEqual([
    { title: 'Background needs you', body: 'Waiting on you: needs permission', tag: `/workspaces/${workspace.id}` },
  ]);
  const { pendingRequest } = await api(ff, 'GET', `/api/sessions/${session}`);
  await api(ff, 'POST', `/api/sessions/${session}/permission`, { requestId: pendingRequest.requestId, optionId: 'allow' });
  await expect.poll(async () => (await notes()).map((n: any) => n.title)).toEqual(['Background needs you', 'Background finished its turn']);
  expect((await notes())[1].body).toBe('Ready for next prompt');
});
