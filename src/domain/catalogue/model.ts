import type { modelTable } from '../../db/tables.js';

/** A model of the catalogue, with its prices, limits, aliases and fallback: a row of `models`. */
export type Model = typeof modelTable.$inferSelect;
