#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so the package needs no build step.
import { register } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

register('tsx/esm', import.meta.url);
await import(pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../src/cli.ts')).href);
