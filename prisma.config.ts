import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { defineConfig } from 'prisma/config';
import { databaseUrl } from './src/config.ts';

// The schema's datasource reads DATABASE_URL; default it the same way the service does so `prisma generate`
// works with no environment at all.
process.env.DATABASE_URL ??= databaseUrl(process.env);

// Prisma 6.19 with the JavaScript schema engine: `prisma generate` and `prisma migrate` run offline through the
// driver adapter (no native engine download). See DESIGN.md "Decided stack".
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  async adapter() {
    return new PrismaBetterSQLite3({ url: databaseUrl(process.env) });
  },
});
