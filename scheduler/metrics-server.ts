/**
 * `larder scheduler --metrics-port` and `larder monitor --metrics-port`: `/metrics`
 * (Prometheus text) and `/health`.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { SchedulerMetrics } from './scheduler-metrics.ts';

export function serveSchedulerMetrics(
  metrics: SchedulerMetrics,
  port: number,
  host = '0.0.0.0',
): Promise<Server> {
  return serveMetrics(metrics.registry, port, host);
}

/** Serves one registry's metrics. */
export async function serveMetrics(
  registry: Registry,
  port: number,
  host = '0.0.0.0',
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (e: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(e));
        },
      );
    } else if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: /metrics or /health\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
