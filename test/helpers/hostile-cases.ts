// Generators of malformed and abusive GraphQL requests. Everything here is
// deterministic (a seeded generator), so a failure can be replayed by name.

/** A GraphQL request as a client would send it; any field may have the wrong type. */
export interface HostileOperation {
  name: string;
  query: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** A raw HTTP request to /graphql: a broken body, a strange method or content type. */
export interface HostileHttpRequest {
  name: string;
  method: string;
  /** Appended to /graphql. */
  search?: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** mulberry32: small, fast and good enough to shuffle test inputs reproducibly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const huge = 'x'.repeat(900_000);
const nestedList = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const nestedJson = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) as unknown;
const ids = ['', 'x', 'not-a-uuid', '00000000-0000-0000-0000-000000000000', "'; drop table accounts; --", '\u0000', '\ud800', '💥'.repeat(500), huge];

/** Documents that are broken, refused by a limit, or valid but pointless. */
function documents(): string[] {
  const fragmentBomb = [
    'query Bomb { ...F0 }',
    ...Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`),
    'fragment F30 on Query { models { id } }',
  ].join('\n');
  return [
    '',
    ' ',
    '# only a comment',
    '{',
    '}',
    '{ models { id }',
    '{ models { id } } }',
    'query',
    'mutation',
    'subscription',
    '{ models { id } } garbage',
    'fragment F on Query { models { id } }',
    '{ ...Missing }',
    'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }',
    'query A { models { id } } query A { models { id } }',
    '{ models { id } } { models { id } }',
    'query($x: Int) { models { id } }',
    'query($x: Unknown) { models { id } }',
    'query { models { id } } query Q { __typename }',
    '{ nope }',
    '{ models { nope } }',
    '{ models }',
    '{ model { id } }',
    '{ model(id: 1) { id } }',
    '{ model(id: "x", extra: 1) { id } }',
    '{ model(id: null) { id } }',
    `{ model(id: ${nestedList(900)}) { id } }`,
    `{ model(id: "${huge}") { id } }`,
    `{ model(id: "\\u0000") { id } }`,
    `{ model(id: "\\ud800") { id } }`,
    '{ model(id: """block\u0000string""") { id } }',
    '{ models @nope { id } }',
    '{ models @skip { id } }',
    '{ models @include(if: true) @include(if: true) { id } }',
    `{ models { ${'id @include(if: true) '.repeat(60)} } }`,
    `{ ${'a{'.repeat(5000)}${'}'.repeat(5000)} }`,
    `{ ${'models { '.repeat(50)}id${' }'.repeat(50)} }`,
    `{ ${'... on Query { '.repeat(40)}models { id }${' }'.repeat(40)} }`,
    `{ ${Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
    `{ ${Array.from({ length: 300 }, (_, i) => `m${i}: models { id }`).join(' ')} }`,
    `{ models { ${'id '.repeat(1500)} } }`,
    fragmentBomb,
    `query ${'A'.repeat(100_000)} { models { id } }`,
    `query(${Array.from({ length: 400 }, (_, i) => `$v${i}: Int`).join(' ')}) { models { id } }`,
    '{ accounts(first: 100000) { edges { node { id } } } }',
    '{ accounts(first: -1) { edges { node { id } } } }',
    '{ accounts(first: 2147483648) { edges { node { id } } } }',
    '{ accounts(after: "\\u0000") { edges { node { id } } } }',
    '{ accounts(first: 1, last: 1) { edges { node { id } } } }',
    '{ account(id: "not-a-uuid") { id } }',
    '{ completion(id: "\\u0000") { id } }',
    '{ completion(id: "00000000-0000-4000-8000-000000000000") { id } }',
    '{ viewer { ledger(first: 100, after: "garbage") { edges { node { id } } } } }',
    '{ viewer { completions(first: 0) { totalCount } } }',
    '{ __schema { types { name } } }',
    '{ __type(name: "Query") { fields { type { fields { type { fields { name } } } } } } }',
    'mutation { createAccount(input: { name: "hostile" }) { id } }',
    'mutation { createAccount(input: { name: "" }) { id } }',
    'mutation { grantCredits(input: { accountId: "x", amount: "1e309" }) { id } }',
    'mutation { grantCredits(input: { accountId: "00000000-0000-4000-8000-000000000000", amount: "NaN" }) { id } }',
    'mutation { updateModel(input: { id: "claude-haiku-4-5", inputPricePerMillion: "-1" }) { id } }',
    'mutation { revokeApiKey(id: "\\u0000") { id } }',
    'mutation { revokeApiKey(id: "00000000-0000-4000-8000-000000000000") { id } }',
    'mutation { cancelCompletion(id: "x") { id } }',
    'mutation { startCompletion(input: { model: "nope", messages: [] }) { id } }',
    'mutation { startCompletion(input: { model: "claude-haiku-4-5", messages: [{ role: "hacker", content: "hi" }] }) { id } }',
    'mutation { startCompletion(input: { model: "claude-haiku-4-5", messages: [{ role: "user", content: "hi" }], maxTokens: -5 }) { id } }',
    'mutation { startCompletion(input: { model: "claude-haiku-4-5", messages: [{ role: "user", content: "hi" }], temperature: 9 }) { id } }',
    'mutation { startCompletion(input: { model: "claude-haiku-4-5", messages: [{ role: "user", content: "hi" }], idempotencyKey: "\\u0000" }) { id } }',
    'mutation { startCompletion(input: { model: "claude-haiku-4-5", messages: [{ role: "user", content: "hi" }] }) { id } }',
    'mutation { a: cancelCompletion(id: "x") { id } b: cancelCompletion(id: "y") { id } }',
    'subscription { completionStream(id: "x") { index } }',
    'subscription { completionStream(id: "00000000-0000-4000-8000-000000000000", after: -7) { index } }',
    'subscription { a: completionStream(id: "x") { index } b: completionStream(id: "y") { index } }',
    'subscription { models { id } }',
    '{ completionStream(id: "x") { index } }',
  ];
}

/** Valid operations with hostile variables: wrong types, huge or deep values, strange strings. */
function variablePayloads(): HostileOperation[] {
  const values: unknown[] = [null, true, 0, -1, 1.5, 2 ** 31, -(2 ** 31) - 1, 1e308, '1e309', [], [null], {}, JSON.parse('{"__proto__":{"polluted":true}}') as unknown, nestedJson(2000), Array.from({ length: 20_000 }, () => 0), ...ids];
  const operations = [
    { query: 'query($id: String!) { model(id: $id) { id } }', key: 'id' },
    { query: 'query($id: ID!) { completion(id: $id) { id } }', key: 'id' },
    { query: 'query($id: ID!) { account(id: $id) { id } }', key: 'id' },
    { query: 'query($first: Int, $after: String) { accounts(first: $first, after: $after) { totalCount } }', key: 'first' },
    { query: 'query($first: Int, $after: String) { accounts(first: $first, after: $after) { totalCount } }', key: 'after' },
    { query: 'mutation($input: CompletionInput!) { startCompletion(input: $input) { id } }', key: 'input' },
    { query: 'mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { id } }', key: 'input' },
    { query: 'mutation($id: ID!) { cancelCompletion(id: $id) { id } }', key: 'id' },
  ];
  const cases: HostileOperation[] = [];
  for (const { query, key } of operations) {
    values.forEach((value, i) => cases.push({ name: `${query.slice(0, 40)} with ${key} #${i}`, query, variables: { [key]: value } }));
  }
  const start = 'mutation($input: CompletionInput!) { startCompletion(input: $input) { id } }';
  const message = (content: unknown, role = 'user') => ({ role, content });
  const inputs: Record<string, unknown>[] = [
    { model: 'claude-haiku-4-5', messages: [message(huge)] },
    { model: 'claude-haiku-4-5', messages: Array.from({ length: 5000 }, () => message('hi')) },
    { model: 'claude-haiku-4-5', messages: [message(nestedJson(3000))] },
    { model: 'claude-haiku-4-5', messages: [message([{ type: 'image_url', image_url: { url: 'javascript:alert(1)' } }])] },
    { model: 'claude-haiku-4-5', messages: [message([{ type: 'text', text: 7 }])] },
    { model: 'claude-haiku-4-5', messages: [message('hi', 'system'), message('hi', 'tool')] },
    { model: 'claude-haiku-4-5', messages: [message('hi')], maxTokens: 2 ** 31 },
    { model: 'claude-haiku-4-5', messages: [message('hi')], maxTokens: 1.5 },
    { model: 'claude-haiku-4-5', messages: [message('hi')], temperature: 'hot' },
    { model: 'claude-haiku-4-5', messages: [message('hi')], temperature: 0.5, topP: 0.5 },
    { model: 'claude-haiku-4-5', messages: [message('hi')], stop: Array.from({ length: 1000 }, (_, i) => `s${i}`) },
    { model: 'claude-haiku-4-5', messages: [message('hi')], tools: [{ type: 'function', function: { name: 'x'.repeat(500) } }] },
    { model: 'claude-haiku-4-5', messages: [message('hi')], tools: nestedJson(1000) },
    { model: 'claude-haiku-4-5', messages: [message('hi')], toolChoice: { type: 'function', function: { name: '\u0000' } } },
    { model: 'claude-haiku-4-5', messages: [message('hi')], responseFormat: { type: 'json_schema', json_schema: nestedJson(1000) } },
    { model: 'claude-haiku-4-5', messages: [message('hi')], idempotencyKey: '\u0000' },
    { model: 'claude-haiku-4-5', messages: [message('hi')], idempotencyKey: 'x'.repeat(100_000) },
    { model: 'claude-haiku-4-5', messages: [message('hi')], user: huge },
    { model: 'claude-haiku-4-5', messages: [message('hi')], accountId: '\u0000' },
    { model: 'claude-haiku-4-5', messages: [message('hi')], unknownField: 1 },
    { model: '\u0000', messages: [message('hi')] },
    { model: huge, messages: [message('hi')] },
  ];
  inputs.forEach((input, i) => cases.push({ name: `startCompletion input #${i}`, query: start, variables: { input } }));
  const grant = 'mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { id } }';
  for (const amount of ['1e309', '-0', 'NaN', 'Infinity', '0.0000000001', '99999999999999999999', ' 1 ', '\u0000', 1e308, -1, [], {}]) {
    cases.push({ name: `grantCredits amount ${String(amount).slice(0, 20)}`, query: grant, variables: { input: { accountId: '00000000-0000-4000-8000-000000000000', amount, idempotencyKey: '\u0000' } } });
  }
  return cases;
}

/** Request fields of the wrong type, unknown operation names. */
function envelopes(): HostileOperation[] {
  const valid = 'query A { models { id } } query B { __typename }';
  return [
    { name: 'query is a number', query: 1 },
    { name: 'query is an object', query: { kind: 'Document' } },
    { name: 'query is an array', query: ['{ models { id } }'] },
    { name: 'query is null', query: null },
    { name: 'variables is a string', query: '{ models { id } }', variables: '{}' },
    { name: 'variables is an array', query: '{ models { id } }', variables: [1, 2] },
    { name: 'variables is a number', query: '{ models { id } }', variables: 7 },
    { name: 'operationName is an object', query: valid, operationName: {} },
    { name: 'operationName is unknown', query: valid, operationName: 'C' },
    { name: 'operationName is missing among two', query: valid },
    { name: 'operationName is huge', query: valid, operationName: huge },
    { name: 'operationName has a NUL', query: valid, operationName: 'A\u0000' },
  ];
}

/** Random GraphQL-ish token soup and random damage to valid documents. */
function fuzzed(random: () => number, count: number): string[] {
  const pieces = ['{', '}', '(', ')', '[', ']', ':', '$', '!', '@', '...', '=', '|', '&', '"', '"""', '#', ',', 'query', 'mutation', 'subscription', 'fragment', 'on', 'models', 'model', 'id', 'viewer', 'accounts', 'first', '__typename', '__schema', 'true', 'null', '1', '-0', '1e999', '"\\u0000"', '"\\uD800"', 'Query', 'include', 'skip', 'if'];
  const seeds = ['{ models { id name } }', 'query M($id: String!) { model(id: $id) { id } }', '{ viewer { id balance ledger(first: 3) { edges { node { id } } } } }', 'subscription S { completionStream(id: "x") { index done } }'];
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      out.push(Array.from({ length: 1 + Math.floor(random() * 40) }, () => pick(pieces)).join(' '));
    } else {
      const chars = [...pick(seeds)];
      for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
        const at = Math.floor(random() * chars.length);
        const action = random();
        if (action < 0.4) chars.splice(at, 1);
        else if (action < 0.8) chars.splice(at, 0, pick(['{', '}', '(', ')', '"', '$', '@', ':', '\u0000', '\\', ' ']));
        else chars.splice(at, 0, ...chars.slice(at, at + 8));
      }
      out.push(chars.join(''));
    }
  }
  return out;
}

/** Every hostile operation, for any transport that carries GraphQL requests. */
export function hostileOperations(seed = 20261126): HostileOperation[] {
  const random = seededRandom(seed);
  return [
    ...documents().map((query, i) => ({ name: `document #${i}: ${query.slice(0, 60)}`, query })),
    ...variablePayloads(),
    ...envelopes(),
    ...fuzzed(random, 160).map((query, i) => ({ name: `fuzzed #${i}: ${query.slice(0, 60)}`, query })),
  ];
}

/** Requests that are broken at the HTTP level: bodies, methods, content types, query strings. */
export function hostileHttpRequests(): HostileHttpRequest[] {
  const json = { 'content-type': 'application/json', accept: 'application/json' };
  const post = (name: string, body: string | Buffer, headers: Record<string, string> = json): HostileHttpRequest => ({ name, method: 'POST', headers, body });
  const get = (name: string, search: string, headers: Record<string, string> = { accept: 'application/json' }): HostileHttpRequest => ({ name, method: 'GET', search, headers });
  return [
    post('empty body', ''),
    post('not JSON', 'hello'),
    post('truncated JSON', '{"query": "{ models { id } }"'),
    post('JSON null', 'null'),
    post('JSON string', '"{ models { id } }"'),
    post('JSON number', '42'),
    post('JSON array (batching is off)', '[{"query":"{ models { id } }"},{"query":"{ __typename }"}]'),
    post('an empty object', '{}'),
    post('an unknown parameter', '{"query":"{ models { id } }","unknown":1}'),
    post('extensions is a string', '{"query":"{ models { id } }","extensions":"x"}'),
    post('duplicate keys', '{"query":"{ nope }","query":"{ models { id } }"}'),
    post('deeply nested JSON', `{"query":"{ models { id } }","variables":{"a":${nestedList(400_000)}}}`),
    post('a prototype-polluting body', '{"query":"{ models { id } }","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
    post('invalid UTF-8', Buffer.concat([Buffer.from('{"query":"{ model(id: \\"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('\\") { id } }"}')])),
    post('a UTF-8 byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"query":"{ models { id } }"}')])),
    post('a NUL byte in the body', '{"query":"{ models { id } }\u0000"}'),
    post('a charset that is not UTF-8', '{"query":"{ models { id } }"}', { 'content-type': 'application/json; charset=latin1' }),
    post('an absurd content type', '{"query":"{ models { id } }"}', { 'content-type': 'application/json;;;; boundary=="' }),
    post('application/graphql', '{ models { id } }', { 'content-type': 'application/graphql' }),
    post('application/graphql with garbage', '{ models { id', { 'content-type': 'application/graphql' }),
    post('application/xml', '<query/>', { 'content-type': 'application/xml' }),
    post('no content type', '{"query":"{ models { id } }"}', {}),
    post('an event-stream request for a broken document', '{"query":"subscription {"}', { 'content-type': 'application/json', accept: 'text/event-stream' }),
    post('an accept header nobody serves', '{"query":"{ models { id } }"}', { 'content-type': 'application/json', accept: 'application/xml' }),
    get('GET without a query', ''),
    get('GET with an empty query', '?query='),
    get('GET with variables that are not JSON', `?query=${encodeURIComponent('query($id: String!) { model(id: $id) { id } }')}&variables=notjson`),
    get('GET with broken percent-encoding', '?query=%FF%FE%'),
    get('GET with an unknown operation', `?query=${encodeURIComponent('query A { models { id } }')}&operationName=Nope`),
    get('GET with a mutation', `?query=${encodeURIComponent('mutation { createAccount(input: { name: "x" }) { id } }')}`),
    get('GET with extensions that are not JSON', `?query=${encodeURIComponent('{ models { id } }')}&extensions={`),
    get('GET asking for event-stream with a broken document', `?query=${encodeURIComponent('subscription {')}`, { accept: 'text/event-stream' }),
    { name: 'PUT', method: 'PUT', headers: json, body: '{"query":"{ models { id } }"}' },
    { name: 'DELETE', method: 'DELETE', headers: json },
    { name: 'PATCH', method: 'PATCH', headers: json, body: '{"query":"{ models { id } }"}' },
    { name: 'OPTIONS preflight from a stranger', method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } },
  ];
}
