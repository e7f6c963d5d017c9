import type { Command } from 'commander';
import { LarderError } from '../../core/errors.ts';
import { cliConfig, type GlobalOptions } from '../context.ts';

/** `larder teardown --yes`: deletes the online store's data of this namespace, nothing else. */
export function registerTeardownCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('teardown')
    .description(
      'delete every online-store key of this namespace (LARDER_NAMESPACE) and nothing else',
    )
    .option('--yes', 'confirm the deletion')
    .action(async (o: { yes?: boolean }) => {
      const config = await cliConfig(globals());
      const where =
        config.onlineStore.type === 'sqlite'
          ? config.onlineStore.path
          : config.onlineStore.type === 'redis'
            ? config.onlineStore.url
            : 'the Redis cluster';
      if (!o.yes) {
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `this deletes every key of namespace "${config.namespace}" in ${where}`,
          { hint: 're-run with --yes to confirm', detail: { reason: 'confirmation_required' } },
        );
      }
      const { createOnlineStore, initOrClose } =
        await import('../../online/create-online-store.ts');
      const store = await initOrClose(
        createOnlineStore(config.onlineStore, { namespace: config.namespace, views: [] }),
      );
      try {
        await store.teardown();
      } finally {
        await store.close();
      }
      console.log(`Deleted namespace "${config.namespace}" from ${where}.`);
    });
}
