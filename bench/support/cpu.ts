import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** The command name of PostgreSQL's processes (the postmaster and every backend), for commandCpuMs. */
export const POSTGRES_COMMANDS = ['postgres'];

/** CPU time (user + system) a process has used so far, in ms; undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  try {
    return cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** CPU time of every live process whose command is one of `commands` (e.g. all postgres backends). */
export function commandCpuMs(commands: string[]): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (commands.includes(command)) byPid.set(Number(entry), cpuOfStat(stat));
  }
  return byPid;
}

/** CPU used between two snapshots; processes that started in between count from zero. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Peak resident set size of a live process so far (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function cpuOfStat(stat: string): number {
  // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
