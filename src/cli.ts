/**
 * dcs-migrate: serve | import | tasks | migrate | verify
 */
import { CliError } from './cli/errors.ts';
import { IMPORT_USAGE, importCommand } from './cli/import.ts';
import { MIGRATE_USAGE, migrateCommand } from './cli/migrate.ts';
import { TASKS_USAGE, tasksCommand } from './cli/tasks.ts';
import { loadConfig } from './config.ts';
import { MigrationError } from './errors.ts';

const USAGE = `Usage: dcs-migrate <command> [options]

Commands:
  serve     Run the DCS-compatible migration API (settings from the environment, see .env.example)
  import    Load an RDB file into a Redis target
  migrate   Copy a live Redis into a target as a replica (full sync, then the live stream)
  tasks     List, show, stop or delete the tasks of a running service
  help      Show this text

${IMPORT_USAGE}
${MIGRATE_USAGE}
${TASKS_USAGE}`;

async function serve(): Promise<void> {
  // Loaded on demand: `import` needs none of the API stack (express, Prisma, S3 client), which costs start-up time
  // and memory that the import process's RSS bound has to carry.
  const { startServer } = await import('./server.ts');
  const server = await startServer(loadConfig());
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`dcs-migrate: ${signal} received, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export async function main(argv: string[]): Promise<number | undefined> {
  const [cmd] = argv;
  switch (cmd) {
    case 'serve':
      await serve();
      return undefined;
    case 'import':
      return importCommand(argv.slice(1));
    case 'migrate':
      return migrateCommand(argv.slice(1));
    case 'tasks':
      return tasksCommand(argv.slice(1));
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`dcs-migrate: unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(
      `dcs-migrate: ${err instanceof MigrationError ? err.message : (err?.stack ?? String(err))}\n`,
    );
    process.exitCode = err instanceof CliError || err?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  },
);
