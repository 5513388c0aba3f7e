import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/*
 * Per-process CPU and memory from Linux /proc.
 */

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

export const CLOCK_TICKS = clockTicksPerSecond();

export interface ProcessCpu {
  pid: number;
  parentPid: number;
  command: string;
  /** user + system time of the process itself, in clock ticks */
  ownTicks: number;
  /** user + system time of its children that it has waited for, in clock ticks */
  reapedChildTicks: number;
  /** start time after boot, in clock ticks */
  startTicks: number;
}

export function readProcessCpu(pid: number): ProcessCpu | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command sits in parentheses and may itself contain spaces or parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const field = (number: number) => Number(fields[number - 3]);
  return {
    pid,
    parentPid: field(4),
    command: text.slice(open + 1, close),
    ownTicks: field(14) + field(15),
    reapedChildTicks: field(16) + field(17),
    startTicks: field(22),
  };
}

/** Resident memory now and its high-water mark, in KiB. */
export function readProcessMemory(pid: number): { rssKiB: number; peakRssKiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const value = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    const rssKiB = value('VmRSS');
    const peakRssKiB = value('VmHWM');
    // A process killed but not yet reaped (a zombie) has a status without memory lines.
    return Number.isFinite(rssKiB) && Number.isFinite(peakRssKiB) ? { rssKiB, peakRssKiB } : null;
  } catch {
    return null;
  }
}

export function processesNamed(command: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command) pids.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return pids;
}

/** Seconds since boot, in clock ticks: the scale of a process's start time. */
export function uptimeTicks(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * CLOCK_TICKS;
}

/** Busy and total CPU time of the whole machine, all cores, in clock ticks. */
export function readMachineCpu(): { busyTicks: number; totalTicks: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busyTicks: total - idle, totalTicks: total };
}
