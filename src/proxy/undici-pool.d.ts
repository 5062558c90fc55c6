/**
 * undici's Pool on its own. `import { Pool } from 'undici'` loads the whole package (fetch, WebSocket,
 * EventSource, caches, mocks): ~3 MB more heap that vestibule holds for its lifetime and never uses. undici has
 * no `exports` map, so the module is reachable. Typed narrower than undici's `Pool`: `request`, `stream`,
 * `pipeline`, `connect` and `upgrade` are added to the prototype by undici's index, which this does not load.
 */
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  export type PoolCore = Pick<Pool, 'dispatch' | 'close' | 'destroy'>;
  const PoolClass: new (origin: string | URL, options?: Pool.Options) => PoolCore;
  export default PoolClass;
}
