/**
 * The benchmark's child processes: started with their output in a log file (cheap, like a container runtime
 * capturing stdout), ready when their port answers, stopped by their own handle (SIGTERM, then SIGKILL).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running child process of the benchmark. */
export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
  /** True while the process runs. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Directory for the log file `<name>.log`. */
  readonly logDir: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n').trim();
}

/** Starts a child with stdout and stderr appended to `<logDir>/<name>.log`. */
export function startService(o: StartOptions): Service {
  const logFile = join(o.logDir, `${o.name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${o.name}: could not start ${o.command}`);
  const exited = once(child, 'exit').then(() => undefined);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name: o.name,
    pid,
    logFile,
    logTail: (lines = 20) => tail(logFile, lines),
    alive,
    stop: async (graceMs = 5000) => {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once 127.0.0.1:`port` accepts a TCP connection; rejects when the service dies or time runs out. */
export async function waitForPort(service: Service, port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!service.alive()) throw new Error(`${service.name} exited during start-up:\n${service.logTail()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${service.name} did not listen on ${port}:\n${service.logTail()}`);
    await sleep(50);
  }
}

/**
 * Resolves once `url` answers with `status` (any status when omitted). `failOn` matched in the log fails at
 * once: a process that reported a fatal error may still be alive, held up by an open handle.
 */
export async function waitForHttp(
  service: Service,
  url: string,
  timeoutMs = 30_000,
  status?: number,
  failOn?: RegExp,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!service.alive()) throw new Error(`${service.name} exited during start-up:\n${service.logTail()}`);
    if (failOn?.test(service.logTail(50))) throw new Error(`${service.name} failed to start:\n${service.logTail()}`);
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (status === undefined || res.status === status) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${service.name} did not answer at ${url}:\n${service.logTail()}`);
    await sleep(100);
  }
}

/** Stops services in reverse start order, ignoring failures (clean-up must reach every one). */
export async function stopAll(services: readonly Service[]): Promise<void> {
  for (const s of [...services].reverse()) {
    try {
      await s.stop();
    } catch {
      // Already gone.
    }
  }
}
