// A preload (`node --import <this file>`) for servers that cannot be told
// which address to listen on, such as Portkey, which always listens on every
// interface: a TCP listen() that names no host binds to BENCH_LISTEN_HOST
// (127.0.0.1) instead, and each server that starts listening writes one line
// to stderr, `bench-listening <address> <port>`, so the bench can start it on
// port 0 and learn the port without a race. Listens on a path, a handle or a
// given host are left as they are. Bench code, not part of the product.
import net from 'node:net';

const host = process.env.BENCH_LISTEN_HOST || '127.0.0.1';
const listen = net.Server.prototype.listen;

const isPort = (value) => typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));

/** listen()'s arguments with the host filled in where they leave it out. */
function onLoopback(args) {
  const [first, second] = args;
  if (isPort(first)) {
    if (typeof second === 'string') return args;
    // listen(port), listen(port, undefined, …), listen(port, backlog, …), listen(port, callback)
    const rest = second === undefined || second === null ? args.slice(2) : args.slice(1);
    return [first, host, ...rest];
  }
  const unbound = first !== null && typeof first === 'object' && first.path === undefined && first.fd === undefined && first.handle === undefined;
  if (unbound && (first.host === undefined || first.host === null) && ('port' in first || Object.keys(first).length === 0)) {
    return [{ ...first, host }, ...args.slice(1)];
  }
  return args;
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  this.once('listening', () => {
    const address = this.address();
    if (address !== null && typeof address === 'object') process.stderr.write(`bench-listening ${address.address} ${address.port}\n`);
  });
  return listen.apply(this, onLoopback(args));
};
