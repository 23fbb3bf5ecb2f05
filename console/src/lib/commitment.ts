export interface MonthSpend {
  month: string;
  amount: number;
}

export interface Series {
  labels: string[];
  /** Cumulative spend at the end of each month so far. */
  spend: number[];
  /** The straight-line target at the end of each month of the term: amount × elapsed fraction. */
  target: number[];
}

/** The months (YYYY-MM) from start to end inclusive. */
export function monthsBetween(start: Date, end: Date): string[] {
  const out: string[] = [];
  let y = start.getUTCFullYear();
  let m = start.getUTCMonth();
  const endKey = end.getUTCFullYear() * 12 + end.getUTCMonth();
  while (y * 12 + m <= endKey && out.length < 240) {
    out.push(`${y}-${String(m + 1).padStart(2, "0")}`);
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
  return out;
}

/**
 * The chart's series for a commitment: cumulative spend per month against the straight-line target over the term
 * (the commitment reached evenly from start to end). Spend stops at the last month reported.
 */
export function commitmentSeries(amount: number, start: string, end: string, months: MonthSpend[]): Series {
  const s = new Date(start);
  const e = new Date(end);
  const labels = monthsBetween(s, e);
  const term = e.getTime() - s.getTime();
  const target = labels.map((label) => {
    const [y, m] = label.split("-").map(Number) as [number, number];
    const monthEnd = Math.min(Date.UTC(y, m, 1), e.getTime());
    const fraction = term > 0 ? Math.max(0, Math.min(1, (monthEnd - s.getTime()) / term)) : 1;
    return round2(amount * fraction);
  });
  const byMonth = new Map<string, number>();
  for (const ms of months) byMonth.set(ms.month.slice(0, 7), (byMonth.get(ms.month.slice(0, 7)) ?? 0) + ms.amount);
  const last = [...byMonth.keys()].sort().pop();
  const spend: number[] = [];
  let total = 0;
  for (const label of labels) {
    if (!last || label > last) break;
    total += byMonth.get(label) ?? 0;
    spend.push(round2(total));
  }
  return { labels, spend, target };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
