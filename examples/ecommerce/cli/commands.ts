/**
 * The e-commerce example's own `larder` commands, added by the project's `larder.config.ts`
 * (`commands: ['examples/ecommerce/cli/commands.ts']`): `gen-data` (synthetic history) and
 * `label` (the ranker's training spine).
 */
import type { CommandPlugin } from '../../../cli/plugin.ts';
import { registerGenDataCommand } from './gen-data-command.ts';
import { registerLabelCommand } from './label-command.ts';

const ecommerceCommands: CommandPlugin = (program, globals) => {
  registerGenDataCommand(program, globals);
  registerLabelCommand(program, globals);
};
export default ecommerceCommands;
