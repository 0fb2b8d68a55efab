/**
 * The `online` task executor: TaskSpec → migrateOnline, with the task's log, checkpoints, phases and stats.
 * Resumable: a run after a restart continues from the checkpointed replication id and offset.
 */
import type { Executor, ExecutorContext } from '../runner/index.ts';
import { OnlineError } from './errors.ts';
import { migrateOnline, type OnlineStats } from './migrate.ts';

function statsPatch(s: OnlineStats) {
  return {
    fullMigrationProgress: String(s.fullProgress),
    ...(s.lag !== null && { offset: String(s.lag) }),
    ...(s.sourceDbsize !== null && { sourceDbsize: String(s.sourceDbsize) }),
    ...(s.targetDbsize !== null && { targetDbsize: String(s.targetDbsize) }),
    targetInputKbps: String(s.targetInputKbps),
    targetOps: String(s.targetOps),
    isMigrating: true,
  };
}

export function onlineExecutor(): Executor {
  return {
    resumable: true,
    async run(ctx: ExecutorContext) {
      const t = ctx.task;
      if (!t.source) throw new OnlineError('ONLINE_ERR_CONFIG', 'the task has no source instance');
      const mode = t.migrationMethod === 'incremental_migration' ? 'incremental' : 'full';
      await ctx.log(
        'INFO',
        'MIGRATION_STARTED',
        `${t.resumed ? 'Resuming' : 'Starting'} ${mode === 'full' ? 'a full' : 'an incremental'} migration from ${t.source.addrs} to ${t.target.addrs}${t.bandwidthLimitMb ? ` (bandwidth limit ${t.bandwidthLimitMb} MB/s)` : ''}.`,
      );
      await migrateOnline(
        {
          source: { addrs: t.source.addrs, password: t.source.password },
          target: { addrs: t.target.addrs, password: t.target.password },
          mode,
          resumeMode: t.resumeMode,
          bandwidthLimitMb: t.bandwidthLimitMb,
          checkpoint: t.checkpoint,
          signal: ctx.signal,
        },
        {
          log: (level, code, message) => ctx.log(level, code, message),
          checkpoint: (cp) => ctx.checkpoint(cp),
          phase: (event) => ctx.phase(event),
          stats: (s) => ctx.stats(statsPatch(s)),
        },
      );
    },
  };
}
