import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { sqlitePath } from '../config.ts';
import { PrismaClient } from '../generated/prisma/client.ts';
import { applyMigrations } from './migrate.ts';

export type Db = PrismaClient;

/** Opens the SQLite store, applying pending migrations first. */
export function openDb(databaseUrl: string): Db {
  const file = sqlitePath(databaseUrl);
  applyMigrations(file);
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${file}` }) });
}
