import type { Metric } from "prom-client";

/** What prom-client's registry reads from a metric at scrape (the shape `upstreamHistogram` also gives). */
interface MetricValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Series {
  route: string;
  method: string;
  /** Observations per bucket (not cumulative), then above the last bound. */
  buckets: number[];
  sum: number;
  count: number;
  /** Request count per status, in the order statuses were first seen. */
  statuses: Map<number, { status: string; count: number }>;
}

export interface HttpRequestMetrics {
  /** Counts one request and its time to the response headers, in seconds. */
  record(route: string, method: string, status: number, seconds: number): void;
  /** `codex_img_http_requests_total` and `codex_img_http_request_duration_seconds`, for the registry. */
  metrics: [Metric, Metric];
}

/**
 * The two per-request metrics, recorded with two map lookups and a few additions per request. prom-client's
 * `Counter.inc` and `Histogram.observe` validate and hash their label object on every call, which every
 * request paid; here the series are kept per route and method and handed to the registry at scrape in
 * the text prom-client itself writes (same names, labels, order and values).
 */
export function httpRequestMetrics(buckets: readonly number[]): HttpRequestMetrics {
  const byRoute = new Map<string, Map<string, Series>>();
  /** Series and their counters in creation order, which is the order prom-client lists them in. */
  const series: Series[] = [];
  const counters: Array<{ series: Series; status: string; entry: { count: number } }> = [];

  const record = (route: string, method: string, status: number, seconds: number): void => {
    let methods = byRoute.get(route);
    if (!methods) {
      methods = new Map();
      byRoute.set(route, methods);
    }
    let one = methods.get(method);
    if (!one) {
      one = {
        route,
        method,
        buckets: new Array(buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
        statuses: new Map(),
      };
      methods.set(method, one);
      series.push(one);
    }
    let counter = one.statuses.get(status);
    if (!counter) {
      counter = { status: String(status), count: 0 };
      one.statuses.set(status, counter);
      counters.push({ series: one, status: counter.status, entry: counter });
    }
    counter.count++;
    let bucket = 0;
    while (bucket < buckets.length && seconds > (buckets[bucket] as number)) bucket++;
    one.buckets[bucket] = (one.buckets[bucket] as number) + 1;
    one.sum += seconds;
    one.count++;
  };

  const requests = customMetric(
    "codex_img_http_requests_total",
    "HTTP requests by matched route pattern, method and status.",
    "counter",
    () =>
      counters.map(({ series: { route, method }, status, entry }) => ({
        labels: { route, method, status },
        value: entry.count,
      })),
  );
  const duration = customMetric(
    "codex_img_http_request_duration_seconds",
    "Time to the response headers (streams: to the start of the stream), by route and method.",
    "histogram",
    () =>
      series.flatMap(({ route, method, buckets: counts, sum, count }): MetricValue[] => {
        const bucketName = "codex_img_http_request_duration_seconds_bucket";
        let below = 0;
        return [
          ...buckets.map((le, i) => {
            below += counts[i] as number;
            return { metricName: bucketName, labels: { le, route, method }, value: below };
          }),
          { metricName: bucketName, labels: { le: "+Inf", route, method }, value: count },
          {
            metricName: "codex_img_http_request_duration_seconds_sum",
            labels: { route, method },
            value: sum,
          },
          {
            metricName: "codex_img_http_request_duration_seconds_count",
            labels: { route, method },
            value: count,
          },
        ];
      }),
  );
  return { record, metrics: [requests, duration] };
}

function customMetric(
  name: string,
  help: string,
  type: "counter" | "histogram",
  values: () => MetricValue[],
): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({ name, help, type, aggregator: "sum", values: values() }),
    reset() {},
  };
  return metric as unknown as Metric;
}
