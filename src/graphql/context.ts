import type { Model } from '../domain/catalogue.js';
import type { Viewer } from '../domain/viewer.js';
import type { Services } from '../services.js';

export interface Context {
  viewer: Viewer;
  services: Services;
  requestId: string;
  /** Models loaded during this request, by id. */
  models: Map<string, Promise<Model>>;
}
