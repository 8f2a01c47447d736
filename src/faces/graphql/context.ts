import type { Viewer } from '../../domain/access/viewer.js';
import type { Domain } from '../../domain/domain.js';
import type { Loaders } from './loaders.js';

export interface Context {
  viewer: Viewer;
  domain: Domain;
  requestId: string;
  /** Batched reads for fields that lists fan out to, made per request. */
  loaders: Loaders;
}
