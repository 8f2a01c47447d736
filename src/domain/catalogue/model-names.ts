import { BadInputError } from '../errors.js';

// The names a model answers to, on every face. A model is named by its id
// ("anthropic/claude-sonnet-4-6") or one of its aliases ("claude-sonnet-4-6",
// and any the admin adds). Beyond those, the gateway understands the names
// Anthropic's SDKs and Claude Code send: Anthropic pins a model by a dated
// snapshot id ("claude-sonnet-4-5-20250929"), and older models by a dated id
// whose undated name is "-latest" ("claude-3-5-haiku-20241022" for
// "claude-3-5-haiku-latest"). The catalogue has one row per model, not per
// snapshot, so a dated id means that model as the upstream serves it today.

const PROVIDER_PREFIX = 'anthropic/';
const SNAPSHOT_DATE = /^(.+)-\d{8}$/;

/**
 * The names to look up for `name`, best first: as given; without a snapshot
 * date, then as that model's "-latest" name; each also with the provider
 * prefix, which catalogue ids carry. The first that a model has wins, so an
 * exact id or alias always beats a derived one.
 */
export function namesToTry(name: string): string[] {
  const undated = SNAPSHOT_DATE.exec(name)?.[1];
  const bases = undated ? [name, undated, `${undated}-latest`] : [name];
  return bases.flatMap((base) => (base.startsWith(PROVIDER_PREFIX) ? [base] : [base, `${PROVIDER_PREFIX}${base}`]));
}

/** What `namesToTry` searches: a model's id and aliases. */
export interface NamedModel {
  id: string;
  aliases: string[];
}

/** The model `name` refers to, in a list of models. */
export function modelNamed<M extends NamedModel>(models: readonly M[], name: string): M | undefined {
  for (const candidate of namesToTry(name)) {
    const model = models.find((m) => m.id === candidate || m.aliases.includes(candidate));
    if (model) return model;
  }
  return undefined;
}

const MAX_ALIASES = 20;
// Letters, digits and the punctuation model names use; no spaces or
// anything a URL path, a header or a log line would have to escape.
const aliasPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/;

/**
 * An admin's new alias list for `model`, checked: sane names, no repeats,
 * none that another model already answers to as its id or an alias (a name
 * must name one model). The caller holds the catalogue's rows locked, so
 * `others` cannot change before the update commits.
 */
export function validateAliases(aliases: readonly string[], model: NamedModel, others: readonly NamedModel[]): string[] {
  if (aliases.length > MAX_ALIASES) throw new BadInputError(['aliases'], `at most ${MAX_ALIASES} aliases`);
  const seen = new Set<string>();
  aliases.forEach((alias, i) => {
    const path = ['aliases', i];
    if (!aliasPattern.test(alias)) {
      throw new BadInputError(path, `an alias is 1–100 letters, digits and . _ : / - starting with a letter or digit; got ${JSON.stringify(alias)}`);
    }
    if (seen.has(alias)) throw new BadInputError(path, `${alias} is listed twice`);
    if (alias === model.id) throw new BadInputError(path, `${alias} is the model's own id`);
    const owner = others.find((m) => m.id !== model.id && (m.id === alias || m.aliases.includes(alias)));
    if (owner) throw new BadInputError(path, `${alias} already names ${owner.id}; remove it there first`);
    seen.add(alias);
  });
  return [...aliases];
}
