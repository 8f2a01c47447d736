import type { Database } from '../../db/database.js';
import { accountFor, assertAccountAccess, assertAccountsAccess, assertAdmin } from '../access/access-rules.js';
import type { Viewer } from '../access/viewer.js';
import type { CatalogueCache } from '../catalogue/catalogue-cache.js';
import { modelNamed } from '../catalogue/model-names.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { validateName } from '../names.js';
import { hasLimits, validateLimits, type ApiKeyLimits } from './api-key-limits.js';
import { findApiKey, insertApiKey, listApiKeysOf, revokeApiKey, updateApiKey, type ApiKey } from './api-key-record.js';
import type { ApiKeyHasher } from './key-hasher.js';
import { displayPrefixOf, generateApiKey } from './key-secret.js';

export interface CreatedApiKey {
  apiKey: ApiKey;
  /** The whole key: returned once, never stored. */
  secret: string;
}

/** API keys: created and revoked by the admin or by the account's unlimited keys. */
export class ApiKeyService {
  constructor(
    private readonly db: Database,
    private readonly hasher: ApiKeyHasher,
    private readonly catalogue: CatalogueCache,
    private readonly maxKeysPerAccount: number,
    /** Told of a key that changed here: authentication forgets it, a revoked one's streams end. */
    private readonly onChanged: (keyId: string, change: 'revoked' | 'updated') => void,
  ) {}

  async create(viewer: Viewer, input: { name: string; accountId?: string | null; limits?: ApiKeyLimits | null }): Promise<CreatedApiKey> {
    const accountId = accountFor(viewer, input.accountId);
    assertMayManageKeys(viewer, accountId);
    const name = validateName(input.name, ['name']);
    const limits = await this.limitsOf(input.limits);
    const secret = generateApiKey();
    const apiKey = await insertApiKey(this.db, { accountId, name, prefix: displayPrefixOf(secret), keyHash: this.hasher.hash(secret), limits }, this.maxKeysPerAccount);
    return { apiKey, secret };
  }

  /** Admin: a new name or limits; limits apply to the key's next requests. */
  async update(viewer: Viewer, input: { id: string; name?: string | null; limits?: ApiKeyLimits | null }): Promise<ApiKey> {
    assertAdmin(viewer);
    const limits = await this.limitsOf(input.limits);
    const name = input.name === undefined || input.name === null ? {} : { name: validateName(input.name, ['name']) };
    const updated = await updateApiKey(this.db, input.id, { ...limits, ...name });
    this.onChanged(updated.id, 'updated');
    return updated;
  }

  async revoke(viewer: Viewer, id: string): Promise<ApiKey> {
    const key = await findApiKey(this.db, id);
    if (!key) throw new NotFoundError(`no API key ${id}`);
    assertMayManageKeys(viewer, key.accountId, key.id);
    const revoked = await revokeApiKey(this.db, key.id);
    this.onChanged(key.id, 'revoked');
    return revoked;
  }

  /** The keys of each account asked for, newest first, revoked ones included: one statement for all. */
  async listOf(viewer: Viewer, accountIds: readonly string[]): Promise<ApiKey[][]> {
    assertAccountsAccess(viewer, accountIds);
    const keys = await listApiKeysOf(this.db, accountIds);
    return accountIds.map((id) => keys.filter((key) => key.accountId === id));
  }

  /** The limits of an input, checked (allowed models against the catalogue). */
  private async limitsOf(input: ApiKeyLimits | null | undefined): Promise<ApiKeyLimits> {
    if (!input) return {};
    const models = await this.catalogue.models();
    return validateLimits(input, (name) => modelNamed(models, name)?.id);
  }
}

/**
 * Who may create or revoke keys of an account: the admin, and a key of that
 * account without limits (it acts as the account's owner). A key with any
 * limit may only revoke itself: creating keys, or revoking others, would let
 * it escape its own limits.
 */
function assertMayManageKeys(viewer: Viewer, accountId: string, revokingKeyId?: string): void {
  assertAccountAccess(viewer, accountId);
  if (viewer.kind !== 'apiKey' || !hasLimits(viewer.apiKey) || revokingKeyId === viewer.apiKey.id) return;
  throw new ForbiddenError(
    revokingKeyId ? 'a key with limits may only revoke itself' : 'a key with limits cannot create keys; ask the admin or use a key without limits',
  );
}
