import { startSimulator } from '../src/simulator/simulator.js';

// The fake upstream, in a process of its own so that it neither steals the
// load generator's event loop nor the gateway's. Pace and length come from
// the `[sim:…]` directive of each request (see workload.ts).
const simulator = await startSimulator({ host: '127.0.0.1', maxRecordedRequests: 100 });
process.send?.({ type: 'ready', baseUrl: simulator.baseUrl });
process.on('disconnect', () => void simulator.close().then(() => process.exit(0)));
