import { MigrationError } from './errors.ts';

/** A setting that cannot be used; names the variable. */
export class ConfigError extends MigrationError {
  constructor(variable: string, problem: string) {
    super('CONFIG_ERR_INVALID', `${variable} ${problem}`, { variable });
  }
}
