import { findModel, type Model } from '../domain/catalogue.js';
import type { Context } from './context.js';

/** A model by id, memoised per request, so a list of completions costs one query per model. */
export function loadModel(context: Context, id: string): Promise<Model> {
  let loaded = context.models.get(id);
  if (!loaded) {
    loaded = findModel(context.services.db, id).then((m) => {
      if (!m) throw new Error(`a stored row refers to a missing model ${id}`);
      return m;
    });
    context.models.set(id, loaded);
  }
  return loaded;
}
