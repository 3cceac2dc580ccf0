// A fake Anthropic Messages API on loopback for the real claude-agent-acp: it answers each model
// request with the next scripted reply, streamed in the Messages API's server-sent events, and
// records every request. The same events as server/tests/common/fake_models.rs, which proves them
// against the real adapter.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply =
  | { text: string[]; delayMs?: number }
  | { tool: string; input: unknown }
  | { serverError: string };

export type Recorded = { method: string; path: string; body: any };

export type FakeAnthropic = {
  url: string;
  /** Queues replies for the next model requests. */
  script: (...replies: Reply[]) => void;
  requests: () => Recorded[];
  modelRequests: () => Recorded[];
  stop: () => Promise<void>;
};

const isModelRequest = (r: Recorded) => r.method === 'POST' && r.path.split('?')[0] === '/v1/messages';

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const queue: Reply[] = [];
  const requests: Recorded[] = [];
  let served = 0;
  const server = createServer(async (request, response) => {
    const recorded = { method: request.method ?? '', path: request.url ?? '', body: await json(request) };
    requests.push(recorded);
    served += 1;
    if (isModelRequest(recorded)) {
      const reply = queue.shift();
      if (!reply) return error(response, 500, 'api_error', 'no scripted reply left in the fake model API');
      return answer(response, reply, recorded.body, served);
    }
    if (recorded.method === 'POST' && recorded.path.startsWith('/v1/messages/count_tokens')) {
      return send(response, 200, { input_tokens: Math.floor(JSON.stringify(recorded.body).length / 4) });
    }
    // The adapter's connectivity check (`HEAD /`) and anything unexpected.
    return error(response, 404, 'not_found_error', 'not found');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script: (...replies) => queue.push(...replies),
    requests: () => [...requests],
    modelRequests: () => requests.filter(isModelRequest),
    stop: () => {
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

async function json(request: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function error(response: ServerResponse, status: number, type: string, message: string) {
  send(response, status, { type: 'error', error: { type, message } });
}

const usage = (input: number, output: number) => ({
  input_tokens: input,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  output_tokens: output,
});

/** Splits a tool call's JSON the way the API streams it: in pieces. */
function pieces(input: unknown): string[] {
  const chars = [...JSON.stringify(input)];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += 24) out.push(chars.slice(i, i + 24).join(''));
  return out;
}

async function answer(response: ServerResponse, reply: Reply, request: any, serial: number) {
  if ('serverError' in reply) return error(response, 500, 'api_error', reply.serverError);
  const model = request?.model ?? 'fake-model';
  const [block, stopReason] =
    'tool' in reply
      ? [{ type: 'tool_use', id: `toolu_fake${serial}`, name: reply.tool, input: reply.input }, 'tool_use']
      : [{ type: 'text', text: reply.text.join('') }, 'end_turn'];
  if (request?.stream !== true) {
    return send(response, 200, {
      id: `msg_fake${serial}`, type: 'message', role: 'assistant', model, content: [block],
      stop_reason: stopReason, stop_sequence: null, usage: usage(100, 10),
    });
  }
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const event = (name: string, data: unknown) => response.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  event('message_start', { type: 'message_start', message: {
    id: `msg_fake${serial}`, type: 'message', role: 'assistant', model, content: [],
    stop_reason: null, stop_sequence: null, usage: usage(100, 1),
  } });
  event('ping', { type: 'ping' });
  let deltas = 0;
  if ('tool' in reply) {
    event('content_block_start', { type: 'content_block_start', index: 0, content_block: { ...block, input: {} } });
    for (const piece of pieces(reply.input)) {
      event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: piece } });
      deltas += 1;
    }
  } else {
    event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    for (const text of reply.text) {
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
      deltas += 1;
    }
  }
  event('content_block_stop', { type: 'content_block_stop', index: 0 });
  event('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: deltas } });
  event('message_stop', { type: 'message_stop' });
  response.end();
}
