/**
 * Resolves `source_instance` / `target_instance` to connection details: `addrs` (+ `password`) when given, else
 * the `id` looked up in DCS_INSTANCES_FILE (a JSON list of `{id, name, addrs, password}`).
 */
import { readFileSync } from 'node:fs';
import { MigrationError } from '../errors.ts';
import { invalidField, unknownInstance } from './errors.ts';

export interface InstanceRecord {
  id: string;
  name?: string;
  addrs: string;
  password?: string;
}

export interface InstanceRef {
  id?: string | null;
  name?: string | null;
  addrs?: string | null;
  password?: string | null;
}

export interface ResolvedInstance {
  id: string;
  name: string;
  /** host:port[,host:port…] */
  addrs: string;
  password: string | undefined;
}

export class InstanceFileError extends MigrationError {}

export class InstanceDirectory {
  readonly #byId: Map<string, InstanceRecord>;

  constructor(records: InstanceRecord[] = []) {
    this.#byId = new Map(records.map((r) => [r.id, r]));
  }

  static load(file: string | undefined): InstanceDirectory {
    if (!file) return new InstanceDirectory();
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new InstanceFileError(
        'CONFIG_ERR_INSTANCES_FILE',
        `DCS_INSTANCES_FILE ${file} is not readable JSON`,
        {},
        {
          cause,
        },
      );
    }
    if (!Array.isArray(parsed)) {
      throw new InstanceFileError(
        'CONFIG_ERR_INSTANCES_FILE',
        `DCS_INSTANCES_FILE ${file} must hold a JSON list`,
      );
    }
    const records = parsed.map((r, i) => {
      if (!r || typeof r.id !== 'string' || !r.id || typeof r.addrs !== 'string' || !isAddrs(r.addrs)) {
        throw new InstanceFileError(
          'CONFIG_ERR_INSTANCES_FILE',
          `DCS_INSTANCES_FILE ${file}: entry ${i} needs a string "id" and "addrs" as host:port[,host:port…]`,
        );
      }
      return r as InstanceRecord;
    });
    return new InstanceDirectory(records);
  }

  /** `field` names the request field for error messages (e.g. "target_instance"). */
  resolve(field: string, ref: InstanceRef | null | undefined): ResolvedInstance {
    const addrs = ref?.addrs?.trim();
    const id = ref?.id?.trim();
    if (addrs) {
      if (!isAddrs(addrs)) throw invalidField(`${field}.addrs`, 'expected host:port[,host:port…]');
      const known = id ? this.#byId.get(id) : undefined;
      return {
        id: id ?? '',
        name: ref?.name?.trim() || known?.name || '',
        addrs,
        password: nonEmpty(ref?.password) ?? known?.password,
      };
    }
    if (!id) throw invalidField(field, 'give "addrs" (host:port) or the "id" of a known instance');
    const rec = this.#byId.get(id);
    if (!rec) throw unknownInstance(`${field}.id`, id);
    return {
      id: rec.id,
      name: rec.name ?? '',
      addrs: rec.addrs,
      password: nonEmpty(ref?.password) ?? rec.password,
    };
  }
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

export function isAddrs(s: string): boolean {
  return s.split(',').every((a) => {
    const m = HOST_PORT.exec(a.trim());
    return !!m && Number(m[2]) > 0 && Number(m[2]) < 65536;
  });
}

function nonEmpty(s: string | null | undefined): string | undefined {
  return s === null || s === undefined || s === '' ? undefined : s;
}
