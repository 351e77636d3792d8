/**
 * haproxy and nginx as the benchmark's sidecar stand-ins: found (or installed from Debian with
 * apt-get when missing and the benchmark runs as root), started on 127.0.0.1 with a config in a
 * temporary directory, measured through /proc, and stopped by the benchmark that started them.
 * When they cannot be had, callers get the reason and report the scenarios as skipped.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { cpuMicrosOf, processTree, rssBytesOf } from './proc-stats.ts';

export type ProxyKind = 'haproxy' | 'nginx';

export interface ProxyTools {
  readonly haproxy: string;
  readonly nginx: string;
  readonly haproxyVersion: string;
  readonly nginxVersion: string;
  /** What was installed for this run, if anything. */
  readonly installed?: string;
}

export type ProxyAvailability =
  | { readonly isAvailable: true; readonly tools: ProxyTools }
  | { readonly isAvailable: false; readonly reason: string };

/** An executable named `name` on PATH or in the sbin directories apt installs to. */
function findExecutable(name: string): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const directory of directories) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The version a proxy reports (`haproxy -v` prints it on stdout, `nginx -v` on stderr). */
function versionOf(executable: string, kind: ProxyKind): string {
  const child = spawnSync(executable, ['-v'], { encoding: 'utf8' });
  if (child.error !== undefined) throw child.error;
  const output = `${child.stdout ?? ''}${child.stderr ?? ''}`;
  const pattern = kind === 'haproxy' ? /HAProxy version (\S+)/ : /nginx\/(\S+)/;
  return pattern.exec(output)?.[1] ?? (output.trim().split('\n')[0] || 'unknown');
}

const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * `apt-get install -y haproxy nginx-light`. Debian's packages start their services on install
 * (nginx on 0.0.0.0:80) unless policy-rc.d forbids it; the benchmark must not leave listeners on
 * other addresses, so when no policy exists one that forbids starting is put in place for the
 * install and removed afterwards.
 */
function aptInstall(packages: readonly string[]): void {
  const addedPolicy = !existsSync(POLICY_RC);
  if (addedPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '-q', ...packages], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    try {
      install();
    } catch {
      // A stale package list is the usual cause: refresh it once and try again.
      execFileSync('apt-get', ['update', '-q'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      install();
    }
  } finally {
    if (addedPolicy) rmSync(POLICY_RC, { force: true });
  }
}

/** Finds haproxy and nginx, installing them from Debian when missing (root only). Never throws. */
export function ensureProxies(options: { readonly mayInstall: boolean }): ProxyAvailability {
  let haproxy = findExecutable('haproxy');
  let nginx = findExecutable('nginx');
  let installed: string | undefined;
  const missing = [
    ...(haproxy === undefined ? ['haproxy'] : []),
    ...(nginx === undefined ? ['nginx-light'] : []),
  ];
  if (missing.length > 0) {
    if (!options.mayInstall)
      return { isAvailable: false, reason: `${missing.join(' and ')} not installed (--no-install)` };
    if (process.getuid?.() !== 0)
      return {
        isAvailable: false,
        reason: `${missing.join(' and ')} not installed, and installing needs root (apt-get install -y ${missing.join(' ')})`,
      };
    if (findExecutable('apt-get') === undefined)
      return {
        isAvailable: false,
        reason: `${missing.join(' and ')} not installed, and there is no apt-get`,
      };
    try {
      console.error(`installing ${missing.join(' ')} with apt-get…`);
      aptInstall(missing);
      installed = missing.join(' ');
    } catch (error) {
      const failed = error as { stderr?: Buffer | string; message?: string };
      const detail = String(failed.stderr ?? failed.message ?? error)
        .trim()
        .split('\n')
        .slice(-3)
        .join(' ');
      return { isAvailable: false, reason: `apt-get install -y ${missing.join(' ')} failed: ${detail}` };
    }
    haproxy = findExecutable('haproxy');
    nginx = findExecutable('nginx');
    if (haproxy === undefined || nginx === undefined)
      return {
        isAvailable: false,
        reason: 'apt-get install succeeded but haproxy or nginx is still not found',
      };
  }
  try {
    return {
      isAvailable: true,
      tools: {
        haproxy: haproxy as string,
        nginx: nginx as string,
        haproxyVersion: versionOf(haproxy as string, 'haproxy'),
        nginxVersion: versionOf(nginx as string, 'nginx'),
        ...(installed === undefined ? {} : { installed }),
      },
    };
  } catch (error) {
    return { isAvailable: false, reason: `cannot run the proxies: ${(error as Error).message}` };
  }
}

/** The installed versions, for records of runs that do not start the proxies. */
export function proxyVersions(): { readonly haproxy?: string; readonly nginx?: string } {
  const haproxy = findExecutable('haproxy');
  const nginx = findExecutable('nginx');
  const versions: { haproxy?: string; nginx?: string } = {};
  try {
    if (haproxy !== undefined) versions.haproxy = versionOf(haproxy, 'haproxy');
    if (nginx !== undefined) versions.nginx = versionOf(nginx, 'nginx');
  } catch {
    // Recorded as absent.
  }
  return versions;
}

/** A running proxy: its processes (nginx: master and worker) and what they cost. */
export interface ProxyProcess {
  readonly name: string;
  readonly kind: ProxyKind;
  readonly port: number;
  readonly pids: readonly number[];
  cpuMicros(): number;
  rssBytes(): number;
  close(): Promise<void>;
}

/** Every proxy still running: killed if the benchmark exits without closing them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
// Interrupted (Ctrl-C, a stopped job): Node's default handling would skip the 'exit' listeners.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

function waitForPort(
  port: number,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before listening: ${output()}`));
        return;
      }
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`not listening on ${port} after ${timeoutMs} ms: ${output()}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/**
 * Starts a proxy in the foreground with `config` written to `dir` (created if needed), and
 * resolves once it accepts connections on `port`.
 */
export async function startProxy(options: {
  readonly name: string;
  readonly kind: ProxyKind;
  readonly tools: ProxyTools;
  readonly dir: string;
  readonly port: number;
  readonly config: string;
}): Promise<ProxyProcess> {
  const { dir, kind } = options;
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, `${kind}.conf`);
  writeFileSync(configFile, options.config);
  const [command, args] =
    kind === 'haproxy'
      ? [options.tools.haproxy, ['-db', '-f', configFile]]
      : [options.tools.nginx, ['-p', dir, '-e', join(dir, 'error.log'), '-c', configFile]];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    await waitForPort(options.port, child, () => output.trim(), 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${options.name} (${kind}): ${(error as Error).message}`, { cause: error });
  }
  const pid = child.pid as number;
  // nginx's worker is forked once the master has read the config: wait until it is there.
  let pids = processTree(pid);
  for (let i = 0; kind === 'nginx' && pids.length < 2 && i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    pids = processTree(pid);
  }
  return {
    name: options.name,
    kind,
    port: options.port,
    pids,
    cpuMicros: () => cpuMicrosOf(pids),
    rssBytes: () => rssBytesOf(pids),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        // Both stop at once on SIGTERM (nginx: fast shutdown; haproxy -db: hard stop).
        child.kill('SIGTERM');
      }),
  };
}
