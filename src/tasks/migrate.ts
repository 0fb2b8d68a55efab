/**
 * Applies the committed Prisma migrations (prisma/migrations/<name>/migration.sql) at start, in-process, and
 * records them in `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, same SHA-256
 * checksums), so the Prisma CLI sees the same state. In-process because spawning the CLI costs seconds per start
 * and a self-contained `npm start` must not depend on it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MigrationError } from '../errors.ts';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../prisma/migrations');

export class StoreMigrationError extends MigrationError {}

export function applyMigrations(dbFile: string, dir = MIGRATIONS_DIR): string[] {
  mkdirSync(dirname(dbFile), { recursive: true });
  const db = new Database(dbFile);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`);
    const done = new Map<string, string>();
    for (const row of db
      .prepare(
        'SELECT migration_name, checksum FROM _prisma_migrations WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL',
      )
      .all() as { migration_name: string; checksum: string }[]) {
      done.set(row.migration_name, row.checksum);
    }
    const names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const applied: string[] = [];
    for (const name of names) {
      const sql = readFileSync(join(dir, name, 'migration.sql'));
      const checksum = createHash('sha256').update(sql).digest('hex');
      const prev = done.get(name);
      if (prev !== undefined) {
        if (prev !== checksum) {
          throw new StoreMigrationError(
            'STORE_ERR_MIGRATION_MODIFIED',
            `migration ${name} was changed after it was applied to ${dbFile}; add a new migration instead`,
          );
        }
        continue;
      }
      const started = new Date().toISOString();
      db.transaction(() => {
        db.exec(sql.toString('utf8'));
        db.prepare(
          'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)',
        ).run(randomUUID(), checksum, new Date().toISOString(), name, started);
      })();
      applied.push(name);
    }
    return applied;
  } finally {
    db.close();
  }
}
