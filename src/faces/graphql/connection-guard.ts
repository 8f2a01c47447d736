import type { WebSocket } from 'ws';
import type { WebSocketLimits } from '../../config.js';

interface ConnectionState {
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
 *
 * Past the anonymous cap the OLDEST anonymous socket is closed, not the new
 * one: every client's socket is anonymous until its connection_init has
 * been checked, so refusing new sockets would let anyone who holds the cap
 * with idle sockets lock every signed-in client out. Closing the oldest
 * means a client that sends connection_init promptly gets in unless more
 * than the cap of sockets open during its own handshake.
 */
export class ConnectionGuard {
  private readonly states = new WeakMap<WebSocket, ConnectionState>();
  /** Sockets not signed in, oldest first (a Set iterates in insertion order). */
  private readonly anonymous = new Set<WebSocket>();

  constructor(private readonly limits: WebSocketLimits) {}

  /**
   * A socket opened: anonymous until it signs in, and past the cap the
   * oldest anonymous one makes room. No idle timer yet: until
   * connection_init, graphql-ws's init timeout governs (4408).
   */
  opened(socket: WebSocket): void {
    const state: ConnectionState = { operations: new Set(), idle: undefined };
    this.states.set(socket, state);
    this.anonymous.add(socket);
    socket.once('close', () => {
      this.anonymous.delete(socket);
      clearTimeout(state.idle);
    });
    this.makeRoom();
  }

  /**
   * connection_init was checked and is being acknowledged: with
   * credentials, the socket stops counting as anonymous now; either way its
   * idle time starts now. A socket closed while its credentials were
   * checked (the oldest, say) is left closed.
   */
  acknowledged(socket: WebSocket, signedIn: boolean): void {
    const state = this.states.get(socket);
    if (!state || socket.readyState !== socket.OPEN) return;
    if (signedIn) this.anonymous.delete(socket);
    this.armIdle(socket, state);
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

  /** Past the cap, the oldest anonymous sockets leave the count, and those still open are closed. */
  private makeRoom(): void {
    for (const socket of this.anonymous) {
      if (this.anonymous.size <= this.limits.maxAnonymousConnections) return;
      // Out of the count at once: a closing handshake may take a while, and the cap is about sockets still served.
      this.anonymous.delete(socket);
      // One whose close has begun (its client's, say) goes by itself; closing a live one in its place would be wrong.
      if (socket.readyState === socket.OPEN) socket.close(TOO_MANY_ANONYMOUS, 'too many connections without credentials; this was the oldest');
    }
  }

  private armIdle(socket: WebSocket, state: ConnectionState): void {
    clearTimeout(state.idle);
    state.idle = setTimeout(() => socket.close(IDLE_CLOSE_CODE, `idle: no operation for ${this.limits.idleTimeoutMs} ms`), this.limits.idleTimeoutMs);
    state.idle.unref();
  }
}
