import { builder } from './builder.js';
import './scalars.js';
import './types/model.js';
import './types/api-key.js';
import './types/ledger-entry.js';
import './types/account.js';
import './types/completion.js';
import './types/completion-operations.js';
import './types/balance.js';
import './types/usage.js';

export function buildSchema() {
  return builder.toSchema({ sortSchema: false });
}
