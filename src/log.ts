/**
 * The service logger. Secrets never reach a log line: every field that can hold one is redacted here, in the
 * one place the logger is built.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  'secretKey',
  '*.secretKey',
  'token',
  '*.token',
  'req.headers["x-auth-token"]',
  'req.headers.authorization',
  'headers["x-auth-token"]',
  'headers.authorization',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, destination);
}
