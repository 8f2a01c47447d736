import type { Model } from '../domain/catalogue.js';
import type { Context } from './context.js';

/**
 * A model by id, from the catalogue cache and memoised per request: naming a
 * completion's model costs no query on the hot path.
 */
export function loadModel(context: Context, id: string): Promise<Model> {
  let loaded = context.models.get(id);
  if (!loaded) {
    loaded = context.services.catalogue.find(id).then((m) => {
      if (!m) throw new Error(`a stored row refers to a missing model ${id}`);
      return m;
    });
    context.models.set(id, loaded);
  }
  return loaded;
}
