import type { IncomingMessage } from 'node:http';

/** The path of a request, without its query. */
export const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?', 1)[0] as string;

/** The query of a request. */
export const queryOf = (req: IncomingMessage): URLSearchParams => new URLSearchParams((req.url ?? '').split('?')[1] ?? '');

/**
 * A path segment decoded, or as it came when it is not valid
 * percent-encoding. Model ids contain a slash ("anthropic/…"), which SDKs
 * send encoded or not.
 */
export function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
