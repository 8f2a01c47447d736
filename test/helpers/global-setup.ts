import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/database.js';
import { seedCatalogue } from '../../src/domain/catalogue/seed.js';
import { databaseUrl, dropDatabase, postgresUrl } from './postgres.js';

// Migrates one template database per run; test files clone it (CREATE
// DATABASE … TEMPLATE), which takes milliseconds instead of a migration per
// file. The name is this run's own, so runs side by side never collide.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const template = `tokenhub_template_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create database "${template}"`);
  await admin.end();
  const handle = await openDatabase({ kind: 'postgres', url: databaseUrl(template) });
  await seedCatalogue(handle.db);
  await handle.close();
  project.provide('templateDatabase', template);
  return () => dropDatabase(template);
}
