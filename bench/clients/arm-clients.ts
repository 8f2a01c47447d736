import type { Agent } from 'node:http';
import type { Endpoints } from '../protocol.js';
import { BENCH_MODEL, type ArmName, type Profile } from '../workload.js';
import { anthropicClient } from './anthropic-client.js';
import type { ArmClient } from './arm-client.js';
import { gatewaySseClient } from './gateway-sse-client.js';
import { gatewayWsClient } from './gateway-ws-client.js';
import { openAIClient } from './openai-client.js';

/** What a client of an arm needs to know. */
export interface ArmTarget {
  endpoints: Endpoints;
  /** Run against the comparison gateway (--compare-dir). */
  base: boolean;
  /** A th-… key of a funded account (the gateway's faces). */
  apiKey: string;
  profile: Profile;
  agent: Agent;
}

/** The model the fake upstream is asked for directly (the gateway sends its own catalogue id). */
const UPSTREAM_MODEL = 'anthropic/claude-haiku-4-5';

const graphqlOf = (t: ArmTarget): string => (t.base ? t.endpoints.graphqlBase : undefined) ?? t.endpoints.graphql;
/** The gateway's REST faces live beside /graphql, under /v1. */
export const restBaseOf = (graphqlUrl: string): string => new URL('/v1', graphqlUrl).href;

/** One client factory per arm; adding an arm to workload.ts makes the compiler ask for it here. */
export const armClients: Record<ArmName, (t: ArmTarget) => ArmClient> = {
  direct: (t) => openAIClient({ baseUrl: t.endpoints.upstream, model: UPSTREAM_MODEL, apiKey: 'bench' }, t.profile, t.agent),
  proxy: (t) => openAIClient({ baseUrl: t.endpoints.proxy, model: UPSTREAM_MODEL, apiKey: 'bench' }, t.profile, t.agent),
  portkey: (t) => {
    if (!t.endpoints.portkey) throw new Error('the portkey arm runs without Portkey (--no-portkey?)');
    return openAIClient(
      {
        baseUrl: t.endpoints.portkey,
        model: UPSTREAM_MODEL,
        // Portkey forwards it to the upstream, which wants some bearer token.
        apiKey: 'bench',
        headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': t.endpoints.upstream },
      },
      t.profile,
      t.agent,
    );
  },
  rest: (t) => openAIClient({ baseUrl: restBaseOf(graphqlOf(t)), model: BENCH_MODEL, apiKey: t.apiKey }, t.profile, t.agent),
  stream: (t) => gatewayWsClient(graphqlOf(t), t.apiKey, t.profile, 'one-operation', t.agent),
  '2step': (t) => gatewayWsClient(graphqlOf(t), t.apiKey, t.profile, 'two-step', t.agent),
  'stream-sse': (t) => gatewaySseClient(graphqlOf(t), t.apiKey, t.profile, t.agent, 'one-operation'),
  '2step-sse': (t) => gatewaySseClient(graphqlOf(t), t.apiKey, t.profile, t.agent, 'two-step'),
  anthropic: (t) => anthropicClient(restBaseOf(graphqlOf(t)), t.apiKey, t.profile, t.agent),
};
