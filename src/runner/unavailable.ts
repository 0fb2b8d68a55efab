import { MigrationError } from '../errors.ts';
import type { Executor } from './index.ts';

/**
 * Stands in for a task kind whose executor is not part of this build yet: the task fails at once with an error
 * that says so, instead of pretending to run.
 */
export function unavailableExecutor(what: string): Executor {
  return {
    resumable: false,
    async run() {
      throw new MigrationError(
        'RUNNER_ERR_UNAVAILABLE',
        `${what} is not available in this build of the service.`,
      );
    },
  };
}
