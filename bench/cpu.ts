import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** Where the machine's CPU goes: the bench's process tree, by part of the stack. */
export type CpuPart = 'server' | 'postgres' | 'worker' | 'api' | 'bench';
export type CpuTimes = Record<CpuPart, number>;

/** Clock ticks per second of /proc's times (`getconf CLK_TCK`, 100 on Linux), asked once, when first needed. */
let ticks: number | undefined;
function ticksPerSecond(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/**
 * CPU seconds (user + system) used so far by each part of the bench's stack: the worker's and the
 * API's processes with their children, Temporal's and Postgres's processes (by name), and the rest
 * of the bench's tree (the bench itself: its client, and the no-op baseline's worker). Read from
 * /proc (proc(5), `stat` fields 14–17: its own and its reaped children's); undefined where there is none.
 */
export async function cpuTimes(roots: { worker: number; api: number }): Promise<CpuTimes | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  const processes = new Map<number, { parent: number; name: string; ticks: number }>();
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (pid) => {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
        if (!stat) return;
        // The name is in parentheses and may itself hold spaces or parentheses: the fields follow the last ')'.
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        processes.set(Number(pid), {
          parent: Number(fields[1]),
          name,
          ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
        });
      }),
  );
  const times: CpuTimes = { server: 0, postgres: 0, worker: 0, api: 0, bench: 0 };
  const partOf = (pid: number): CpuPart | undefined => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = processes.get(p)?.parent) {
      if (p === roots.worker) return 'worker';
      if (p === roots.api) return 'api';
      const name = processes.get(p)?.name ?? '';
      if (name.startsWith('temporal')) return 'server';
      if (name.startsWith('postgres')) return 'postgres';
      if (p === process.pid) return 'bench';
    }
    return undefined;
  };
  const perSecond = ticksPerSecond();
  for (const [pid, { ticks: used }] of processes) {
    const part = partOf(pid);
    if (part) times[part] += used / perSecond;
  }
  return times;
}

/** Milliseconds of CPU per item of each part between two readings (undefined without /proc). */
export function cpuPerItem(before: CpuTimes | undefined, after: CpuTimes | undefined, items: number): CpuTimes | undefined {
  if (!before || !after || items === 0) return undefined;
  const parts = Object.keys(before) as CpuPart[];
  return Object.fromEntries(parts.map((part) => [part, Math.round(((after[part] - before[part]) * 10_000) / items) / 10])) as CpuTimes;
}

/** "server 18.6, worker 31.0, … = 62.1 ms": the parts that used any CPU, and their sum. */
export function cpuText(perItem: CpuTimes): string {
  const used = (Object.entries(perItem) as [CpuPart, number][]).filter(([, ms]) => ms > 0);
  const total = used.reduce((sum, [, ms]) => sum + ms, 0);
  return `${used.map(([part, ms]) => `${part} ${ms.toFixed(1)}`).join(', ')} = ${total.toFixed(1)} ms`;
}
