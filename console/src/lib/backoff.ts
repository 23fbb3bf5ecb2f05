/** Delays for polling: start, doubling up to max, with up to ±jitter of each delay (so many tabs do not poll in step). */
export function backoffDelays(opts: { start?: number; max?: number; jitter?: number; random?: () => number } = {}): () => number {
  const { start = 1000, max = 15000, jitter = 0.1, random = Math.random } = opts;
  let next = start;
  return () => {
    const base = next;
    next = Math.min(next * 2, max);
    const spread = base * jitter;
    return Math.round(base - spread + random() * 2 * spread);
  };
}

export interface PollOptions<T> {
  /** Reads the current state. */
  read: () => Promise<T>;
  /** Whether the state is final (stop polling). */
  done: (value: T) => boolean;
  /** Told every state read, and every failed read. */
  onValue?: (value: T) => void;
  onError?: (err: unknown) => void;
  delays?: () => number;
  signal: AbortSignal;
  /** Waits (tests pass their own clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Told before each wait, with its length (the console shows "next check in …"). */
  onWait?: (ms: number) => void;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
  });
}

/**
 * Reads until done (or aborted), waiting longer after each read that changed nothing final. A failed read is
 * reported and retried on the same schedule: a blip of the network must not end the wait. Returns the final value.
 */
export async function poll<T>(o: PollOptions<T>): Promise<T> {
  const delays = o.delays ?? backoffDelays();
  const wait = o.sleep ?? sleep;
  for (;;) {
    try {
      const v = await o.read();
      o.onValue?.(v);
      if (o.done(v)) return v;
    } catch (err) {
      if (o.signal.aborted) throw err;
      o.onError?.(err);
    }
    const ms = delays();
    o.onWait?.(ms);
    await wait(ms, o.signal);
  }
}
