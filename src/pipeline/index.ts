export { BACKUP_IMPORT_DEFAULTS, type BackupImportOptions, backupImportExecutor } from './backup-import.ts';
export { type PlannedFile, planFiles } from './backup-plan.ts';
export { ImportError } from './errors.ts';
export { type ImportOptions, type ImportProgress, type ImportSummary, importRdb } from './import-rdb.ts';
