/**
 * deploy/kubernetes/*.yaml are valid Kubernetes objects (the API's OpenAPI schemas, through
 * kubernetes-models' validators) and agree with Larder: every container runs a `larder`
 * command with options that command has, probes hit routes the process serves, and the
 * ConfigMap is a configuration `loadConfig` accepts. Applying them to a real cluster is
 * `npm run verify:kubernetes` (scripts/kubernetes-verify.sh, docs/deploy.md), outside the suite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/program.ts';
import { loadConfig } from '../../config/config.ts';

const DIR = 'deploy/kubernetes';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [k: string]: unknown;
}

const objects: (K8sObject & { file: string })[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => ({
      ...(d.toJS() as K8sObject),
      file,
    })),
  );

/** The kubernetes-models class of an object. */
async function modelOf(o: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = o.apiVersion.includes('/')
    ? o.apiVersion.split('/')
    : ['', o.apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = mod[o.kind];
  if (!model) throw new Error(`no model for ${o.apiVersion} ${o.kind}`);
  return model;
}

interface Container {
  name: string;
  args: string[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
}

/** Every container of every Deployment, init containers (the scheduler's `apply`) included. */
const containers = objects
  .filter((o) => o.kind === 'Deployment')
  .flatMap((o) => {
    const pod = (
      o as unknown as {
        spec: { template: { spec: { containers: Container[]; initContainers?: Container[] } } };
      }
    ).spec.template.spec;
    return [...(pod.initContainers ?? []), ...pod.containers];
  });

/** What each command's process answers over HTTP (api/routes/ops-routes.ts, stream-metrics.ts). */
const ROUTES: Record<string, string[]> = {
  serve: ['/health', '/ready', '/metrics'],
  stream: ['/metrics', '/metrics.json', '/ready'],
  scheduler: ['/metrics', '/health'],
};

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('hold serve (Deployment, Service, HPA, PDB), stream, the scheduler (Deployment, PVC), the config and the secret', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/larder-config',
      'Deployment/larder-scheduler',
      'Deployment/larder-serve',
      'Deployment/larder-stream',
      'HorizontalPodAutoscaler/larder-serve',
      'PersistentVolumeClaim/larder-scheduler-home',
      'PodDisruptionBudget/larder-serve',
      'Secret/larder-secrets',
      'Service/larder-serve',
    ]);
  });

  it("validate against the Kubernetes API's schemas", async () => {
    for (const o of objects) {
      const { file, ...data } = o;
      const Model = await modelOf(o);
      expect(
        () => new Model(data).validate(),
        `${file}: ${o.kind}/${o.metadata.name}`,
      ).not.toThrow();
    }
    // The validators catch a wrong field (so the check above means something).
    const { file, ...deployment } = objects.find((o) => o.kind === 'Deployment')!;
    const Model = await modelOf(deployment);
    expect(
      () => new Model({ ...deployment, spec: { replicas: 'two' } }).validate(),
      file,
    ).toThrow();
  });

  it('run larder commands with options those commands have, probed on routes they serve', () => {
    const program = buildProgram();
    expect(containers.map((c) => c.args[0]).sort()).toEqual([
      'apply',
      'scheduler',
      'serve',
      'stream',
    ]);
    for (const c of containers) {
      const command = program.commands.find((x) => x.name() === c.args[0])!;
      expect(command, c.name).toBeDefined();
      const longs = command.options.map((o) => o.long);
      for (const a of c.args.filter((x) => x.startsWith('--')))
        expect(longs, `${c.name}: ${a}`).toContain(a);
      const ports = new Set((c.ports ?? []).map((p) => p.name));
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        if (!probe) continue;
        expect(ROUTES[c.args[0]!], `${c.name}: ${probe.httpGet.path}`).toContain(
          probe.httpGet.path,
        );
        expect(ports, `${c.name}: probe port ${probe.httpGet.port}`).toContain(probe.httpGet.port);
      }
    }
  });

  it("the ConfigMap is a configuration Larder accepts, with the stores' production URLs", async () => {
    const map = objects.find((o) => o.kind === 'ConfigMap') as unknown as {
      data: Record<string, string>;
    };
    for (const k of Object.keys(map.data)) expect(k).toMatch(/^(LARDER_[A-Z_]+|KAFKA_BROKERS)$/);
    const config = await loadConfig('/nonexistent-larder-root', map.data);
    expect(config.onlineStore.type).toBe('redis-cluster');
    expect(config.offlineStore.type).toBe('bigquery');
    expect(config.kafka.brokers).toHaveLength(3);
  });
});
