import type { TestServer } from './server.js';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** One GraphQL operation over real HTTP, as any client would send it. */
export async function gql<T = Record<string, any>>(
  server: Pick<TestServer, 'graphqlUrl'>,
  query: string,
  options: { variables?: Record<string, unknown>; token?: string | null; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  return { ...body, status: response.status };
}

/** The data of an operation that must succeed; fails the test with the errors otherwise. */
export async function gqlOk<T = Record<string, any>>(
  server: Pick<TestServer, 'graphqlUrl'>,
  query: string,
  options: Parameters<typeof gql>[2] = {},
): Promise<T> {
  const response = await gql<T>(server, query, options);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL operation failed: ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}

/** The single error code of a failed operation. */
export function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}
