export { type Db, openDb } from './db.ts';
export { TaskError } from './errors.ts';
export { InstanceDirectory, type InstanceRecord } from './instances.ts';
export { SecretBox } from './secrets.ts';
export {
  type BackupImportInput,
  type BatchResult,
  type LogRow,
  type OnlineConfigInput,
  type OnlineCreateInput,
  storedInstance,
  type Task,
  TaskService,
  type TaskServiceDeps,
} from './service.ts';
export * from './state-machine.ts';
