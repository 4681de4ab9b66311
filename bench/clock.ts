import * as fs from 'node:fs';

/** Wall and CPU time of a span, and how busy the rest of the machine was meanwhile. */
export interface Timing {
  seconds: number;
  /** CPU seconds of this process (all threads) over the span. */
  cpuSeconds: number;
  /** Cores that other processes kept busy on average over the span (/proc/stat), when known. */
  otherCores: number | null;
}

/** USER_HZ, the unit of /proc/stat: 100 on every mainstream Linux. */
const CLOCK_TICKS = 100;

/** Machine-wide busy ticks from /proc/stat (undefined where there is none). */
function machineBusyTicks(): number | undefined {
  try {
    const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
    return user + nice + system + irq + softirq;
  } catch {
    return undefined;
  }
}

/** Starts a clock; calling the result gives wall and CPU seconds, and what other processes used meanwhile. */
export function startClock(): () => Timing {
  const cpu = process.cpuUsage();
  const busy = machineBusyTicks();
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const busyNow = machineBusyTicks();
    const otherCores = busy === undefined || busyNow === undefined ? null : Math.max(0, ((busyNow - busy) / CLOCK_TICKS - cpuSeconds) / seconds);
    return { seconds, cpuSeconds, otherCores };
  };
}
