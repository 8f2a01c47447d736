import { UpstreamError } from '../domain/completions/upstream.js';

/**
 * Incremental Server-Sent Events decoder that keeps only the `data` of each
 * event. The openai SDK's own decoder copies its whole byte buffer once per
 * event, which at full speed (hundreds of events per network read) costs
 * more than everything else on the streaming path together; this one scans
 * a string once.
 *
 * Lines may end in `\n`, `\r\n` or a bare `\r`, as the SSE format allows;
 * text with a carriage return is normalised to `\n` first (a `\r` at the end
 * of a read waits for the next one, which may start with its `\n`). Fields
 * other than `data` (`event`, `id`, `retry`) and comments are ignored.
 */
/** No chunk of a chat completion stream comes near this; a whole answer rarely does. */
const MAX_EVENT_CHARS = 1024 * 1024;

export class SseDataDecoder {
  readonly #text = new TextDecoder();
  readonly #maxEventChars: number;
  #buffer = '';
  #data: string | undefined;
  #pendingReturn = false;

  /**
   * `maxEventChars` bounds what one event (or one unfinished line) may hold:
   * an upstream that never ends a line must not fill the memory.
   */
  constructor(maxEventChars = MAX_EVENT_CHARS) {
    this.#maxEventChars = maxEventChars;
  }

  /** Decodes `bytes` and appends the data of each event they complete to `out`. */
  decode(bytes: Uint8Array, out: string[]): void {
    // The kept buffer holds no newline, so the search can start after it.
    const from = this.#buffer.length;
    this.#scan(this.#buffer + this.#lines(this.#text.decode(bytes, { stream: true })), from, out);
  }

  /** At the end of the body: an event not followed by a blank line still counts. */
  end(out: string[]): void {
    const rest = this.#lines(this.#text.decode()) + (this.#pendingReturn ? '\n' : '');
    this.#pendingReturn = false;
    this.#scan(`${this.#buffer}${rest}\n\n`, this.#buffer.length, out);
  }

  /** The text with every line ending as `\n`. */
  #lines(decoded: string): string {
    let text = this.#pendingReturn ? `\r${decoded}` : decoded;
    this.#pendingReturn = false;
    if (!text.includes('\r')) return text;
    if (text.endsWith('\r')) {
      this.#pendingReturn = true;
      text = text.slice(0, -1);
    }
    return text.replace(/\r\n?/g, '\n');
  }

  #scan(buffer: string, from: number, out: string[]): void {
    let start = 0;
    for (let newline = buffer.indexOf('\n', from); newline !== -1; newline = buffer.indexOf('\n', start)) {
      if (newline === start) {
        if (this.#data !== undefined) out.push(this.#data);
        this.#data = undefined;
      } else if (buffer.startsWith('data:', start)) {
        const valueStart = buffer.charCodeAt(start + 5) === 32 ? start + 6 : start + 5;
        const value = buffer.slice(valueStart, newline);
        this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
      }
      start = newline + 1;
    }
    this.#buffer = start === 0 ? buffer : buffer.slice(start);
    if (this.#buffer.length + (this.#data?.length ?? 0) > this.#maxEventChars) {
      throw new UpstreamError('malformed', `The upstream sent an event larger than ${this.#maxEventChars} characters.`);
    }
  }
}
