import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

// Counts the SQL statements a process sends to Postgres by sitting between
// them on the wire: every Execute (extended protocol) and every simple Query
// is one statement. Exact, independent of server settings (the local server
// has no pg_stat_statements preloaded) and of when Postgres flushes its
// statistics. Only used in its own phase: the hop adds latency.

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const WRITE = /\b(insert|update|delete)\b/i;

export interface StatementCounts {
  reads: number;
  writes: number;
  /** Statements by their first 90 characters, whitespace folded. */
  byText: Record<string, number>;
}

/** Follows one client connection's messages to the server. */
class FrontendParser {
  #buffer: Buffer = Buffer.alloc(0);
  #started = false;
  #lastParsed = '';

  constructor(private readonly onStatement: (text: string) => void) {}

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (!this.#started) {
        // Startup-phase messages have no type byte: length, then a code.
        if (this.#buffer.length < 8) return;
        const length = this.#buffer.readInt32BE(0);
        if (this.#buffer.length < length) return;
        const code = this.#buffer.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSS_REQUEST) this.#started = true;
        this.#buffer = this.#buffer.subarray(length);
        continue;
      }
      if (this.#buffer.length < 5) return;
      const length = this.#buffer.readInt32BE(1);
      if (this.#buffer.length < 1 + length) return;
      const type = String.fromCharCode(this.#buffer[0] as number);
      const body = this.#buffer.subarray(5, 1 + length);
      if (type === 'Q') this.onStatement(body.toString('utf8', 0, body.indexOf(0)));
      else if (type === 'P') {
        // Parse: statement name, then the SQL text, both NUL-terminated.
        const nameEnd = body.indexOf(0);
        this.#lastParsed = body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1));
      } else if (type === 'E') this.onStatement(this.#lastParsed);
      this.#buffer = this.#buffer.subarray(1 + length);
    }
  }
}

export class StatementCounter {
  counts: StatementCounts = { reads: 0, writes: 0, byText: {} };
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: URL): Promise<StatementCounter> {
    let counter: StatementCounter | undefined;
    const server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      const parser = new FrontendParser((text) => counter?.record(text));
      counter?.track(client, upstream);
      client.on('data', (chunk: Buffer) => {
        parser.push(chunk);
        upstream.write(chunk);
      });
      upstream.pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    counter = new StatementCounter(server, address.port);
    return counter;
  }

  /** The same database URL, through this counter. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Counts from now on. */
  reset(): void {
    this.counts = { reads: 0, writes: 0, byText: {} };
  }

  private record(text: string): void {
    if (WRITE.test(text)) this.counts.writes += 1;
    else this.counts.reads += 1;
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    this.counts.byText[key] = (this.counts.byText[key] ?? 0) + 1;
  }

  private track(...sockets: Socket[]): void {
    for (const socket of sockets) {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
