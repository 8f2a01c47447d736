import type { ApiKey } from '../api-keys/api-key-record.js';

/** Who is calling: the admin, the holder of an API key, or nobody. */
export type Viewer =
  | { kind: 'admin' }
  | { kind: 'apiKey'; accountId: string; apiKey: ApiKey }
  | { kind: 'anonymous' };

export const anonymous: Viewer = { kind: 'anonymous' };
export const admin: Viewer = { kind: 'admin' };
