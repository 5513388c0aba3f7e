import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

/**
 * Debian's Prometheus Alertmanager, installed when it is missing and this process may install packages (root with
 * apt-get); false when it is not there and cannot be.
 */
export function ensureAlertmanager(): boolean {
  if (existsSync(ALERTMANAGER_BINARY)) return true;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptGet = (...args: string[]) => execFileSync('apt-get', args, { env, stdio: 'ignore', timeout: 300_000 });
  try {
    aptGet('install', '-y', '-qq', 'prometheus-alertmanager');
  } catch {
    try {
      aptGet('update', '-qq');
      aptGet('install', '-y', '-qq', 'prometheus-alertmanager');
    } catch {
      return false;
    }
  }
  return existsSync(ALERTMANAGER_BINARY);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningAlertmanager {
  url: string;
  /** What the process wrote, for a failure message. */
  output(): string;
  /** Sends alerts to Alertmanager's API (POST /api/v2/alerts), as Prometheus does. */
  postAlerts(alerts: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An Alertmanager on a free loopback port, clustering off, its configuration and storage in a temporary directory
 * removed on stop.
 */
export async function startAlertmanager(config: string): Promise<RunningAlertmanager> {
  const directory = await mkdtemp(join(tmpdir(), 'alertops-alertmanager-'));
  const configFile = join(directory, 'alertmanager.yml');
  await writeFile(configFile, config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    ALERTMANAGER_BINARY,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(directory, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await waitFor('Alertmanager ready', async () => {
      if (child.exitCode !== null) throw new Error(`Alertmanager exited with ${child.exitCode}: ${output}`);
      try {
        return (await fetch(`${url}/-/ready`)).ok;
      } catch {
        return false;
      }
    }, { timeoutMs: 20_000, intervalMs: 100 });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    output: () => output,
    async postAlerts(alerts) {
      const response = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!response.ok) throw new Error(`Alertmanager refused the alerts: ${response.status} ${await response.text()}`);
    },
    stop,
  };
}
