import { Cluster, type Redis } from 'ioredis';
import type { InvalidationBus, SessionCache } from './session-cache.js';

/**
 * Session invalidations over Redis pub/sub: one subscriber connection per replica. While it is not
 * subscribed (start-up, reconnects) the cache is off, so no replica serves a session another one ended.
 */
export async function redisInvalidationBus(
  client: Redis | Cluster,
  channel: string,
  cache: SessionCache,
): Promise<InvalidationBus> {
  const subscriber: Redis | Cluster = client instanceof Cluster ? client.duplicate() : client.duplicate();
  cache.setEnabled(false);
  subscriber.on('message', (ch: string, id: string) => {
    if (ch === channel) cache.delete(id);
  });
  const off = (): void => cache.setEnabled(false);
  subscriber.on('close', off);
  subscriber.on('reconnecting', off);
  subscriber.on('end', off);
  // ioredis re-subscribes by itself after a reconnect; the cache comes back once that has happened.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => cache.setEnabled(true),
      () => undefined,
    );
  });
  subscriber.on('error', () => undefined);
  try {
    if (subscriber.status === 'wait') await subscriber.connect();
    await subscriber.subscribe(channel);
    cache.setEnabled(true);
  } catch {
    // Not fatal: the cache stays off until the subscriber is ready.
  }
  return {
    publish: async (id) => {
      await client.publish(channel, id);
    },
    close: async () => {
      cache.setEnabled(false);
      subscriber.disconnect();
      await Promise.resolve();
    },
  };
}
