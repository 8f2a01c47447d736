// The playground's only door to the gateway: queries and mutations over HTTP
// POST, the token stream over graphql-ws (where the key travels in
// connectionParams, as the contract says). Its operations are the files in
// operations/; when the server runs trusted documents it knows them by
// their hashes, and the page sends those instead of the documents.
import { createClient, type Client, type FormattedExecutionResult, type SubscribePayload } from 'graphql-ws';
import cancelOperation from './operations/Cancel.graphql';
import modelsOperation from './operations/Models.graphql';
import startOperation from './operations/Start.graphql';
import streamOperation from './operations/Stream.graphql';
import viewerOperation from './operations/Viewer.graphql';

type Operation = typeof modelsOperation;

/**
 * The document, or its hash as a persisted query. graphql-ws wants a query
 * string in every subscribe message, so it is empty when the hash is sent.
 */
function paramsOf(operation: Operation): { query: string; extensions?: { persistedQuery: { version: 1; sha256Hash: string } } } {
  if (!SEND_OPERATIONS_BY_HASH) return { query: operation.document };
  return { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: operation.hash } } };
}

export interface ModelInfo {
  id: string;
  name: string;
  inputPricePerMillion: string;
  outputPricePerMillion: string;
  enabled: boolean;
  recommended: boolean;
  maxOutputTokens: number;
}

export interface AccountInfo {
  name: string;
  available: string;
}

export interface CompletionInput {
  model: string;
  messages: { role: 'system' | 'user'; content: string }[];
  maxTokens: number;
  temperature?: number;
}

export interface SettledCompletion {
  id: string;
  status: string;
  cost: string | null;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number; estimated: boolean } | null;
  error: { code: string; message: string } | null;
}

export interface StreamEvent {
  index: number;
  delta: string | null;
  outputTokens: number;
  cost: string;
  done: boolean;
  completion: SettledCompletion | null;
}

/** A refusal from the gateway, with the contract's extensions.code when there is one. */
export class GatewayError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const endpoint = '/graphql';

function firstError(errors: readonly { message: string; extensions?: Record<string, unknown> }[]): GatewayError {
  const [error] = errors;
  const code = error?.extensions?.code;
  return new GatewayError(error?.message ?? 'the gateway refused the request', typeof code === 'string' ? code : undefined);
}

async function postQuery<T>(operation: Operation, options: { key?: string; variables?: Record<string, unknown> } = {}): Promise<T> {
  const { query, extensions } = paramsOf(operation);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
    },
    body: JSON.stringify({ ...(query ? { query } : { extensions }), variables: options.variables }),
  });
  let body: FormattedExecutionResult<T>;
  try {
    body = (await response.json()) as FormattedExecutionResult<T>;
  } catch {
    throw new GatewayError(`the gateway answered HTTP ${response.status} without a GraphQL response`);
  }
  if (body.errors?.length) throw firstError(body.errors);
  if (!body.data) throw new GatewayError(`the gateway answered HTTP ${response.status} without data`);
  return body.data;
}

/** The catalogue needs no key; sending none also keeps a bad key from failing it. */
export async function fetchModels(): Promise<ModelInfo[]> {
  const data = await postQuery<{ models: ModelInfo[] }>(modelsOperation);
  return data.models;
}

/** The key's account, or null for the admin token (which has none). */
export async function fetchAccount(key: string): Promise<AccountInfo | null> {
  const data = await postQuery<{ viewer: AccountInfo | null }>(viewerOperation, { key });
  return data.viewer;
}

function describeFailure(failure: unknown): GatewayError {
  if (Array.isArray(failure)) return firstError(failure);
  if (failure instanceof Error) return new GatewayError(failure.message);
  const close = failure as { code?: number; reason?: string };
  if (typeof close?.code === 'number') {
    return new GatewayError(`the connection to the gateway closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`);
  }
  return new GatewayError('the connection to the gateway failed');
}

/** Validates, reserves and starts; answers at once with the PENDING completion. */
export async function startCompletion(key: string, input: CompletionInput): Promise<{ id: string; status: string }> {
  const data = await postQuery<{ startCompletion: { id: string; status: string } }>(startOperation, { key, variables: { input } });
  return data.startCompletion;
}

/** The stream then ends with the CANCELLED completion and what it was charged. */
export async function cancelCompletion(key: string, id: string): Promise<void> {
  await postQuery(cancelOperation, { key, variables: { id } });
}

/**
 * Streams a completion's events over graphql-ws, calling onEvent for each in
 * order; resolves after the last one. graphql-ws re-sends a subscription's
 * payload when it reconnects after a network blip, so `after` follows the
 * last event seen: a resumed stream neither repeats nor loses a delta.
 */
export function streamCompletion(key: string, id: string, onEvent: (event: StreamEvent) => void): Promise<void> {
  const url = new URL(endpoint, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const client: Client = createClient({ url: url.href, connectionParams: { authorization: `Bearer ${key}` }, lazy: true });
  const variables: { id: string; after: number | null } = { id, after: null };
  const payload: SubscribePayload = { ...paramsOf(streamOperation), variables };
  const streamed = new Promise<void>((resolve, reject) => {
    client.subscribe<{ completionStream: StreamEvent }>(payload, {
      next: (result) => {
        if (result.errors?.length) return reject(firstError(result.errors));
        const event = result.data?.completionStream;
        if (!event) return;
        variables.after = event.index;
        onEvent(event);
      },
      error: (failure) => reject(describeFailure(failure)),
      complete: () => resolve(),
    });
  });
  return streamed.finally(() => client.dispose());
}
