/**
 * One attempt of a scheduled run, in a child process of `larder scheduler`
 * (scheduler/view-runner.ts `forkRunner`): `materialize-incremental --views <view> --end <slot>`,
 * then the rows written (or the error) back over IPC. It exits as soon as its scheduler is gone
 * (the IPC channel closes), so a killed scheduler leaves no run behind.
 */
import type { ChildReply, ChildRequest } from '../scheduler/view-runner.ts';
import { openFeatureStore } from '../store/feature-store.ts';

process.once('disconnect', () => process.exit(1));

process.once('message', (req: ChildRequest) => {
  void (async () => {
    let reply: ChildReply;
    try {
      const store = await openFeatureStore(req.repo ? { repo: req.repo } : {});
      try {
        const r = await store.materialize({ end: req.end, incremental: true, views: [req.view] });
        reply = { ok: true, rows: r.reduce((n, v) => n + v.tiles + v.lifetime, 0) };
      } finally {
        await store.close();
      }
    } catch (e) {
      reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    process.send!(reply, () => process.exit(0));
  })();
});
