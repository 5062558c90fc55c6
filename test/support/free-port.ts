import { once } from 'node:events';
import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768–60999 by default): a port the kernel hands out for port 0 is also the
// kind it hands every outgoing connection, so under load another test's client socket can take it between
// this check and the caller's bind. Ports here are only ever taken by a listener that asked for them.
const LOW = 20_000;
const HIGH = 32_767;

async function canBind(port: number): Promise<number | undefined> {
  const probe = createServer();
  probe.listen(port, '127.0.0.1');
  try {
    await Promise.race([once(probe, 'listening'), once(probe, 'error').then(([err]) => Promise.reject(err as Error))]);
  } catch {
    return undefined;
  }
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return address === null || typeof address === 'string' ? undefined : address.port;
}

/** A free TCP port on 127.0.0.1 (bound then released; the caller binds it right after). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await canBind(LOW + Math.floor(Math.random() * (HIGH - LOW + 1)));
    if (port !== undefined) return port;
  }
  const port = await canBind(0);
  if (port === undefined) throw new Error('no port assigned');
  return port;
}
