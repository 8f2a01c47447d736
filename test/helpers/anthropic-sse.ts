import type { TestServer } from './server.js';

export interface SseFrame {
  event: string;
  data: any;
}

/** POST /v1/messages with a raw fetch: the status, headers and, for a stream, every frame as sent (event name and parsed data). */
export async function postMessages(server: Pick<TestServer, 'url'>, key: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const isStream = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const frames: SseFrame[] = isStream
    ? text
        .split('\n\n')
        .filter((frame) => frame.trim() !== '')
        .map((frame) => {
          const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
          const data = /^data: (.*)$/m.exec(frame)?.[1] ?? 'null';
          return { event, data: JSON.parse(data) };
        })
    : [];
  return { status: response.status, headers: response.headers, frames, json: isStream ? undefined : (JSON.parse(text) as any) };
}
