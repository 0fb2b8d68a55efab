import { MigrationError } from '../errors.ts';

/** A command-line usage problem: printed as is, exit code 2. */
export class CliError extends MigrationError {
  constructor(message: string) {
    super('CLI_ERR_USAGE', message);
  }
}

/** The server refused a call or could not be reached: printed as is, exit code 1. */
export class CliRequestError extends MigrationError {
  constructor(message: string) {
    super('CLI_ERR_REQUEST', message);
  }
}
