import { BadInputError, type FieldPath } from './errors.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else is the caller's input error, found before any query. */
export function assertUuid(id: string, path: FieldPath): void {
  if (!uuidPattern.test(id)) throw new BadInputError(path, `is not a valid id: ${JSON.stringify(id)}`);
}
