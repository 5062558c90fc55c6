/**
 * undici's Pool on its own. `import { Pool } from 'undici'` loads the whole package (fetch, WebSocket,
 * EventSource, caches, mocks): ~3 MB more heap that vestibule holds for its lifetime and never uses. undici has
 * no `exports` map, so the module is reachable; its types are the package's own.
 */
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
