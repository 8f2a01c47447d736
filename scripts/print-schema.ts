import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { buildSchema } from '../src/faces/graphql/schema.js';

// Writes schema/schema.graphql; test/schema.test.ts fails when it is stale.
const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
writeFileSync(target, `${printSchema(buildSchema())}\n`);
console.log(`wrote ${target}`);
