import { readFileSync } from 'node:fs';
import os from 'node:os';

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function loadAverage(): string {
  return os.loadavg().map((load) => load.toFixed(2)).join(' / ');
}

/** The machine a benchmark ran on, as Markdown table rows; `extraRows` are further [name, value] pairs. */
export function machineTable(postgresVersion: string, extraRows: [string, string][] = []): string[] {
  return [
    '| machine | |',
    '|---|---|',
    `| CPU | ${cpuModel()} |`,
    `| cores | ${os.cpus().length} |`,
    `| memory | ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB |`,
    `| Node.js | ${process.version} |`,
    `| PostgreSQL | ${postgresVersion} |`,
    ...extraRows.map(([name, value]) => `| ${name} | ${value} |`),
    `| load average at the end (1/5/15 min) | ${loadAverage()} |`,
  ];
}

export function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}
