#!/usr/bin/env node
// The `larder` command. TypeScript sources (Larder's and the user's feature repository) are
// loaded through tsx, so neither needs a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
