import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

interface Reservation {
  /** SHA-256 of the Authorization the reservation was made with. */
  credential: Buffer;
  /** Until the event stream connects; then undefined. */
  expiry: NodeJS.Timeout | undefined;
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
 * event stream.
 */
export class SseReservations {
  private readonly reservations = new Map<string, Reservation>();

  constructor(
    private readonly connectWithinMs: number,
    /** Called for a reservation dropped unconnected, so the handler lets go of its stream too. */
    private readonly onExpired: (token: string) => void,
  ) {}

  reserve(authorization: string): string {
    const token = randomBytes(32).toString('base64url');
    const expiry = setTimeout(() => {
      this.reservations.delete(token);
      this.onExpired(token);
    }, this.connectWithinMs);
    expiry.unref();
    this.reservations.set(token, { credential: credentialOf(authorization), expiry });
    return token;
  }

  /** Whether `token` names a stream reserved with exactly this Authorization. */
  heldBy(token: string, authorization: string | null): boolean {
    const reservation = this.reservations.get(token);
    return reservation !== undefined && authorization !== null && timingSafeEqual(reservation.credential, credentialOf(authorization));
  }

  /** Its event stream connected: it no longer expires, and lasts until `released`. */
  connected(token: string): void {
    const reservation = this.reservations.get(token);
    if (!reservation) return;
    clearTimeout(reservation.expiry);
    reservation.expiry = undefined;
  }

  released(token: string): void {
    clearTimeout(this.reservations.get(token)?.expiry);
    this.reservations.delete(token);
  }
}
