import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

interface Reservation {
  /** SHA-256 of the Authorization the reservation was made with. */
  credential: Buffer;
  /** Until the event stream connects; then undefined. */
  expiry: NodeJS.Timeout | undefined;
  /** Its place among the key's streams, given back when it goes. */
  hold: { release(): void };
  /** Aborted when the stream is cut: its event stream ends. */
  cut: AbortController;
}

const credentialOf = (authorization: string) => createHash('sha256').update(authorization).digest();

/**
 * The streams of graphql-sse's single-connection mode that this instance
 * holds, each bound to the credentials that reserved it. A token is 256
 * random bits, but it is not a credential of its own: every request on the
 * stream (its event stream, its operations, their cancellation) must carry
 * the same Authorization, so a leaked token neither reads another's
 * results nor lets a page without the key attach. A reservation whose
 * event stream has not connected within `connectWithinMs` is dropped, so
 * reservations cannot pile up; a connected stream lasts as long as its
 * event stream, or until it is cut (its key was revoked).
 */
export class SseReservations {
  private readonly reservations = new Map<string, Reservation>();

  constructor(
    private readonly connectWithinMs: number,
    /** Called for a reservation dropped unconnected, so the handler lets go of its stream too. */
    private readonly onExpired: (token: string) => void,
  ) {}

  reserve(authorization: string, hold: { release(): void }): string {
    const token = randomBytes(32).toString('base64url');
    const expiry = setTimeout(() => this.drop(token), this.connectWithinMs);
    expiry.unref();
    this.reservations.set(token, { credential: credentialOf(authorization), expiry, hold, cut: new AbortController() });
    return token;
  }

  /**
   * Ends the stream: a reservation that did not connect is dropped at once;
   * an event stream that did is cut after `afterMs`, so that the last events
   * of its operations (their errors) reach the client first.
   */
  cut(token: string, afterMs: number): void {
    const reservation = this.reservations.get(token);
    if (reservation?.expiry) this.drop(token);
    else if (reservation) setTimeout(() => reservation.cut.abort(), afterMs).unref();
  }

  private drop(token: string): void {
    this.released(token);
    this.onExpired(token);
  }

  /** Whether `token` names a stream reserved with exactly this Authorization. */
  heldBy(token: string, authorization: string | null): boolean {
    const reservation = this.reservations.get(token);
    return reservation !== undefined && authorization !== null && timingSafeEqual(reservation.credential, credentialOf(authorization));
  }

  /** Its event stream connected: it no longer expires, and lasts until `released`; the signal aborts when it is cut. */
  connected(token: string): AbortSignal | undefined {
    const reservation = this.reservations.get(token);
    if (!reservation) return undefined;
    clearTimeout(reservation.expiry);
    reservation.expiry = undefined;
    return reservation.cut.signal;
  }

  released(token: string): void {
    const reservation = this.reservations.get(token);
    if (!reservation) return;
    clearTimeout(reservation.expiry);
    reservation.hold.release();
    this.reservations.delete(token);
  }
}
