// Plain-integer request counters kept on the hot path (by type, BAD reply, latency bucket); metrics read them lazily.

/** The highest request type counted on its own (PF_DEV_INFO); higher types share one slot. */
export const MAX_REQUEST_TYPE_COUNTED = 11;
/** Upper bounds (seconds) of the request latency histogram; the last bucket is +Inf. */
export const LATENCY_BUCKETS_S = [0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.01, 0.1];

export class RequestCounters {
  /** Requests by message type; index MAX_REQUEST_TYPE_COUNTED + 1 counts every other type. */
  readonly byType: number[] = new Array<number>(MAX_REQUEST_TYPE_COUNTED + 2).fill(0);
  /** BAD replies by the identity of the pre-encoded reply buffer (the text is decoded at collection time). */
  readonly bad = new Map<Buffer, number>();
  /** Non-cumulative latency counts; index LATENCY_BUCKETS_S.length is +Inf. */
  readonly latency: number[] = new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0);
  latencySumS = 0;
  latencyCount = 0;

  /** Count one answered request; `elapsedMs` is the time spent producing its reply. */
  record(type: number, reply: Buffer, isBad: boolean, elapsedMs: number): void {
    this.byType[type <= MAX_REQUEST_TYPE_COUNTED ? type : MAX_REQUEST_TYPE_COUNTED + 1]++;
    if (isBad) this.bad.set(reply, (this.bad.get(reply) ?? 0) + 1);
    const s = elapsedMs / 1000;
    let i = 0;
    while (i < LATENCY_BUCKETS_S.length && s > LATENCY_BUCKETS_S[i]) i++;
    this.latency[i]++;
    this.latencySumS += s;
    this.latencyCount++;
  }
}
