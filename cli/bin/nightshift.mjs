#!/usr/bin/env node
// `nightshift` from a checkout (npx nightshift, npm install -g ./cli): the TypeScript source run through tsx.
// `npm run build` writes the same CLI as one plain JavaScript file, dist/cli/nightshift.mjs.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
