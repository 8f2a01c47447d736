import { Kind, parse, print, validate, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPLETION_ID_PLACEHOLDER, graphiqlExamples } from '../../../src/faces/graphql/graphiql-examples.js';
import { buildSchema } from '../../../src/faces/graphql/schema.js';
import { startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import type { TestServer } from '../../helpers/server.js';
import { collectSse } from '../../helpers/subscriptions.js';

const document = parse(graphiqlExamples.query);
const operations = new Map(
  document.definitions
    .filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => [operation.name?.value ?? '', print(operation)]),
);

/** One example as GraphiQL sends it when picked from the ▶ menu, with a real id where it says to paste one. */
function example(name: string, completionId = COMPLETION_ID_PLACEHOLDER): string {
  const source = operations.get(name);
  if (!source) throw new Error(`no example operation ${name}`);
  return source.replaceAll(COMPLETION_ID_PLACEHOLDER, completionId);
}

describe('the GraphiQL examples', () => {
  it('are valid operations against the schema, opened by default', () => {
    expect([...operations.keys()]).toEqual(['Models', 'Viewer', 'StartCompletion', 'StreamCompletion', 'CancelCompletion', 'StartAndStream']);
    expect(validate(buildSchema(), document)).toEqual([]);
    expect(graphiqlExamples.defaultQuery).toBe(graphiqlExamples.query);
    expect(JSON.parse(graphiqlExamples.headers ?? '')).toEqual({ Authorization: '' });
  });

  describe('run as written', () => {
    let server: TestServer;
    beforeAll(async () => {
      ({ server } = await startServerWithSimulator());
    });
    afterAll(() => server.stop());

    it('with an API key: models, viewer, start, stream, cancel, start-and-stream', async () => {
      const { key, accountId } = await fundedCustomer(server);
      expect((await gqlOk(server, example('Models'))).models.length).toBeGreaterThan(0);
      expect((await gqlOk(server, example('Viewer'), { token: key })).viewer.id).toBe(accountId);

      const { id } = (await gqlOk(server, example('StartCompletion'), { token: key })).startCompletion;
      const streamed = await collectSse(server, key, example('StreamCompletion', id), {});
      expect(streamed.errors).toEqual([]);
      expect(streamed.data.at(-1)?.completionStream.completion.status).toBe('SUCCEEDED');
      expect((await gqlOk(server, example('CancelCompletion', id), { token: key })).cancelCompletion.status).toBe('SUCCEEDED');

      const oneShot = await collectSse(server, key, example('StartAndStream'), {});
      expect(oneShot.errors).toEqual([]);
      expect(oneShot.data.at(-1)?.streamCompletion).toMatchObject({ done: true, completion: { status: 'SUCCEEDED' } });
    });
  });
});
