import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamDeadline } from '../../src/upstream/stream-deadline.js';

// A real socket pair over loopback: the chunk is a real byte that the
// kernel holds while this process is busy.
let closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers) close();
  closers = [];
});

async function socketPair(): Promise<{ sender: net.Socket; receiver: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection');
  const receiver = net.connect(port, '127.0.0.1');
  await once(receiver, 'connect');
  const [sender] = (await accepted) as [net.Socket];
  closers.push(() => {
    sender.destroy();
    receiver.destroy();
    server.close();
  });
  return { sender, receiver };
}

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('a stream deadline', () => {
  it('does not expire for a chunk that arrived on time while the process was stalled', async () => {
    const { sender, receiver } = await socketPair();
    let expired = false;
    const deadline = new StreamDeadline(() => (expired = true));
    receiver.on('data', () => deadline.resume(50));
    deadline.resume(50);
    sender.write('x');
    // Past the deadline before the event loop could read the byte: the
    // timer and the byte are both due when the loop turns again.
    busyFor(150);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(expired).toBe(false);
    deadline.stop();
  });

  it('expires when nothing arrives within its limit', async () => {
    let expired = false;
    const deadline = new StreamDeadline(() => (expired = true));
    deadline.resume(30);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(expired).toBe(true);
  });

  it('expires after a stall in which nothing arrived', async () => {
    let expired = false;
    const deadline = new StreamDeadline(() => (expired = true));
    deadline.resume(30);
    busyFor(100);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(expired).toBe(true);
  });
});
