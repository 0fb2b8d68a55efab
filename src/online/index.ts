/** Online migration (PSYNC replica → target writer): the task executor and the function the CLI shares. */
export { parseAddrs } from './control.ts';
export { OnlineError, type OnlineErrorCode } from './errors.ts';
export { onlineExecutor } from './executor.ts';
export { MASTER_SYNC_DEFAULTS, type MasterCheckpoint } from './master-sync.ts';
export {
  type MasterStats,
  migrateOnline,
  type OnlineCheckpoint,
  type OnlineHooks,
  type OnlineMigrationOptions,
  type OnlineStats,
  type OnlineSummary,
} from './migrate.ts';
