import type { Viewer } from '../domain/viewer.js';
import type { Services } from '../services.js';

export interface Context {
  viewer: Viewer;
  services: Services;
  requestId: string;
}
