import { WebSocket } from 'ws';

// Requests to another Node process started with `--inspect=127.0.0.1:<port>`,
// over the inspector protocol (what Chrome DevTools sends).

/** One request of the inspector protocol; resolves with its result. */
async function inspectorRequest(inspectPort: number, method: string, params: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const target = targets[0];
  if (!target) throw new Error(`no inspector target on port ${inspectPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return await new Promise((resolve, reject) => {
      socket.on('message', (data: Buffer) => {
        const reply = JSON.parse(data.toString()) as { id?: number; result?: Record<string, any>; error?: { message: string } };
        if (reply.id !== 1) return;
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result ?? {});
      });
      socket.send(JSON.stringify({ id: 1, method, params }));
    });
  } finally {
    socket.close();
  }
}

/**
 * A full garbage collection in the other process (DevTools' "collect
 * garbage" button). What a process holds is then what it retains, not what
 * it has yet to collect.
 */
export async function collectGarbage(inspectPort: number): Promise<void> {
  await inspectorRequest(inspectPort, 'HeapProfiler.collectGarbage');
}

/** The bytes of JavaScript heap the other process retains: its heapUsed right after a full collection. */
export async function retainedHeapBytes(inspectPort: number): Promise<number> {
  await collectGarbage(inspectPort);
  const { result } = await inspectorRequest(inspectPort, 'Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
  return Number(result?.value);
}
