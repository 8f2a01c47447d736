import { openDatabase } from '../../src/db/database.js';
import { seedCatalogue } from '../../src/domain/catalogue.js';
import { databaseUrl, dropDatabase, postgresUrl, templateDatabase } from './postgres.js';
import pg from 'pg';

// Migrates one template database; test files clone it (CREATE DATABASE …
// TEMPLATE), which takes milliseconds instead of a migration per file.
export default async function setup(): Promise<() => Promise<void>> {
  await dropDatabase(templateDatabase);
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create database "${templateDatabase}"`);
  await admin.end();
  const handle = await openDatabase({ kind: 'postgres', url: databaseUrl(templateDatabase) });
  await seedCatalogue(handle.db);
  await handle.close();
  return () => dropDatabase(templateDatabase);
}
