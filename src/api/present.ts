/**
 * Stored tasks → DCS response bodies, typed by the contract. Passwords are never part of a response (the live
 * API does not return them either).
 */

import { type LogRow, storedInstance, type Task } from '../tasks/index.ts';
import type { components } from './generated/dcs-migration.ts';

type S = components['schemas'];

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : '');

function splitAddr(addrs: string): { ip: string; port: string } {
  const first = addrs.split(',')[0] ?? '';
  const i = first.lastIndexOf(':');
  return i > 0
    ? { ip: first.slice(0, i).replace(/^\[|\]$/g, ''), port: first.slice(i + 1) }
    : { ip: '', port: '' };
}

function backupFiles(t: Task): S['BackupFilesBody'] | undefined {
  if (!t.backupFiles) return undefined;
  const bf = JSON.parse(t.backupFiles) as S['BackupFilesBody'];
  return { file_source: bf.file_source, bucket_name: bf.bucket_name, files: bf.files ?? [] };
}

function source(t: Task): S['SourceInstanceBody'] | undefined {
  const s = storedInstance(t.source);
  if (!s) return undefined;
  return {
    addrs: s.addrs,
    ...splitAddr(s.addrs),
    ...(s.id && { id: s.id }),
    ...(s.name && { name: s.name }),
  };
}

function target(t: Task): S['TargetInstanceBody'] | undefined {
  const s = storedInstance(t.target);
  if (!s) return undefined;
  return { id: s.id, addrs: s.addrs, ...splitAddr(s.addrs), ...(s.name && { name: s.name }) };
}

const status = (t: Task) => t.status as S['MigrationTaskStatus'];

export function showBody(t: Task): S['ShowMigrationTaskResponse'] {
  const src = source(t);
  const tgt = target(t);
  const bf = backupFiles(t);
  return {
    task_id: t.id,
    task_name: t.name,
    description: t.description,
    status: status(t),
    migration_type: t.migrationType as S['MigrationType'],
    ...(t.migrationMethod && { migration_method: t.migrationMethod as S['MigrationMethod'] }),
    ecs_tenant_private_ip: '',
    ...(bf && { backup_files: bf }),
    ...(t.networkType && { network_type: t.networkType as S['NetworkType'] }),
    ...(src && { source_instance: src }),
    ...(tgt && { target_instance: tgt }),
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
    released_at: iso(t.releasedAt),
    version: '',
    ...(t.resumeMode && { resume_mode: t.resumeMode as 'auto' | 'manual' }),
    supported_features: [],
    tenant_vpc_id: t.vpcId ?? '',
    tenant_subnet_id: t.subnetId ?? '',
    tenant_security_group_id: t.securityGroupId ?? '',
    ...(t.bandwidthLimitMb !== null && { bandwidth_limit_mb: String(t.bandwidthLimitMb) }),
    ...(t.taskStatus && {
      task_status: t.taskStatus as NonNullable<S['ShowMigrationTaskResponse']['task_status']>,
    }),
  };
}

export function listItem(t: Task): S['MigrationTaskList'] {
  const src = storedInstance(t.source);
  const tgt = storedInstance(t.target);
  const bf = backupFiles(t);
  return {
    task_id: t.id,
    task_name: t.name,
    status: status(t),
    migration_type: t.migrationType as S['MigrationType'],
    ...(t.migrationMethod && { migration_method: t.migrationMethod as S['MigrationMethod'] }),
    ecs_tenant_private_ip: '',
    data_source: bf?.bucket_name ?? src?.addrs ?? '',
    source_instance_name: src?.name ?? '',
    source_instance_id: src?.id ?? '',
    target_instance_addrs: tgt?.addrs ?? '',
    target_instance_name: tgt?.name ?? '',
    target_instance_id: tgt?.id ?? '',
    created_at: iso(t.createdAt),
    description: t.description,
    source_instance_status: '',
    target_instance_status: '',
    source_instance_subnet_id: '',
    target_instance_subnet_id: '',
    source_instance_spec_code: '',
    target_instance_spec_code: '',
    error_message: t.error,
    released_at: iso(t.releasedAt),
    version: '',
    ...(t.resumeMode && { resume_mode: t.resumeMode as 'auto' | 'manual' }),
    supported_features: [],
  };
}

export function statsBody(t: Task): S['ShowMigrationTaskStatsResponse'] {
  return {
    full_migration_progress: t.fullMigrationProgress,
    offset: t.statOffset,
    source_dbsize: t.sourceDbsize,
    target_dbsize: t.targetDbsize,
    target_input_kbps: t.targetInputKbps,
    target_ops: t.targetOps,
    is_migrating: t.isMigrating,
  };
}

export function logBody(l: LogRow): S['MigrationLog'] {
  return {
    created_at: l.createdAt.toISOString(),
    log_level: l.level === 'ERROR' ? 'ERROR' : 'INFO',
    message: l.message,
    log_code: l.code,
    keyword: l.keyword,
  };
}
