import type { ServerResponse } from 'node:http';

/**
 * Whether the client of a long response is still there: `onLeave` is called
 * once if it closes the connection before the response ended, even if it
 * already has. The faces that stream completions cancel on it.
 */
export class ClientPresence {
  private left = false;
  private onLeave: (() => void) | undefined;
  readonly closed: Promise<unknown>;

  constructor(res: ServerResponse) {
    this.closed = new Promise((resolve) => res.once('close', resolve));
    void this.closed.then(() => {
      if (res.writableFinished) return;
      this.left = true;
      this.onLeave?.();
    });
  }

  get gone(): boolean {
    return this.left;
  }

  whenGone(onLeave: () => void): void {
    this.onLeave = onLeave;
    if (this.left) onLeave();
  }
}
