export { type ImportOptions, type ImportProgress, type ImportSummary, importRdb } from './import-rdb.ts';
