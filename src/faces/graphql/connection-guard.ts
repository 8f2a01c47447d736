import type { WebSocket } from 'ws';
import type { WebSocketLimits } from '../../config.js';

interface ConnectionState {
  /** Until connection_init brings valid credentials. */
  anonymous: boolean;
  /** Ids of the operations running now (subscriptions, and queries while they run). */
  operations: Set<string>;
  idle: NodeJS.Timeout | undefined;
}

/** graphql-ws closes with codes 4400–4499 for the client's faults; this one says "you held nothing". */
export const IDLE_CLOSE_CODE = 4000;
/** "Try again later": the server holds as many connections without credentials as it takes. */
const TOO_MANY_ANONYMOUS = 1013;

/**
 * What a WebSocket connection may hold, so that no client can pile up
 * sockets or subscriptions that others pay for: connections without
 * credentials (not initialised yet, or initialised without a token) are
 * capped per instance; a connection that holds no operation is closed after
 * the idle timeout (it either never subscribed, or stopped); and one
 * connection holds at most `maxSubscriptions` operations at once.
 */
export class ConnectionGuard {
  private readonly states = new WeakMap<WebSocket, ConnectionState>();
  private anonymous = 0;

  constructor(private readonly limits: WebSocketLimits) {}

  /** A socket opened: counted as anonymous until it signs in; refused past the cap. */
  opened(socket: WebSocket): void {
    if (this.anonymous >= this.limits.maxAnonymousConnections) {
      socket.close(TOO_MANY_ANONYMOUS, 'too many connections without credentials; retry later');
      return;
    }
    this.anonymous += 1;
    const state: ConnectionState = { anonymous: true, operations: new Set(), idle: undefined };
    this.states.set(socket, state);
    this.armIdle(socket, state);
    socket.once('close', () => {
      if (state.anonymous) this.anonymous -= 1;
      clearTimeout(state.idle);
    });
  }

  /** connection_init brought valid credentials. */
  signedIn(socket: WebSocket): void {
    const state = this.states.get(socket);
    if (!state?.anonymous) return;
    state.anonymous = false;
    this.anonymous -= 1;
  }

  /** Operation `id` may start unless the connection holds its maximum; false refuses it. */
  starting(socket: WebSocket, id: string): boolean {
    const state = this.states.get(socket);
    if (!state || state.operations.size >= this.limits.maxSubscriptions) return false;
    state.operations.add(id);
    clearTimeout(state.idle);
    state.idle = undefined;
    return true;
  }

  ended(socket: WebSocket, id: string): void {
    const state = this.states.get(socket);
    if (!state?.operations.delete(id)) return;
    if (state.operations.size === 0) this.armIdle(socket, state);
  }

  private armIdle(socket: WebSocket, state: ConnectionState): void {
    clearTimeout(state.idle);
    state.idle = setTimeout(() => socket.close(IDLE_CLOSE_CODE, `idle: no operation for ${this.limits.idleTimeoutMs} ms`), this.limits.idleTimeoutMs);
    state.idle.unref();
  }
}
