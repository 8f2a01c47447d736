import { fundedCustomer } from '../test/helpers/fixtures.js';
import type { TestServer } from '../test/helpers/server.js';

/**
 * Funded accounts with one API key each, made through the admin API as an
 * operator would, with the test fixtures (which only use these two fields
 * of a test server). Returns the keys' secrets.
 */
export async function createCustomers(graphqlUrl: string, adminToken: string, count: number): Promise<string[]> {
  const server = { graphqlUrl, adminToken } as TestServer;
  const keys: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, () => fundedCustomer(server, '1000.00'));
    keys.push(...(await Promise.all(batch)).map((c) => c.key));
  }
  return keys;
}
