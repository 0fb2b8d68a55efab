/**
 * The task lifecycle (src/tasks/state-machine.ts). The expected moves are written out here as the lifecycle the
 * API documents (openapi/dcs-migration.yaml, MigrationTaskStatus and the operations' notes); every kind × status ×
 * event is checked against them, so a move added to or dropped from TRANSITIONS fails a named case.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACTIVE_STATUSES,
  allowed,
  canTransition,
  isTaskStatus,
  nextStatus,
  TASK_STATUSES,
  type TaskEvent,
  type TaskKind,
  type TaskOperation,
  type TaskStatus,
  TERMINAL_STATUSES,
  TRANSITIONS,
} from '../../src/tasks/state-machine.ts';

const KINDS: TaskKind[] = ['backup_import', 'online'];
// A Record so that the compiler fails this file when an event is added to TaskEvent and not listed here.
const EVENT_SET: Record<TaskEvent, true> = {
  created: true,
  configure: true,
  incremental: true,
  resync: true,
  succeed: true,
  fail: true,
  stop: true,
  stopped: true,
  restart: true,
  exchange: true,
};
const EVENTS = Object.keys(EVENT_SET) as TaskEvent[];
const OPS: Record<TaskOperation, true> = { delete: true, update: true, rollback: true };

type Moves = Partial<Record<TaskStatus, Partial<Record<TaskEvent, TaskStatus>>>>;

const EXPECTED: Record<TaskKind, Moves> = {
  backup_import: {
    MIGRATING: { succeed: 'SUCCESS', fail: 'FAILED', stop: 'TERMINATING' },
    TERMINATING: { stopped: 'TERMINATED', fail: 'FAILED' },
  },
  online: {
    CREATING: { created: 'RUNNING', fail: 'FAILED' },
    RUNNING: { configure: 'FULLMIGRATING', stop: 'TERMINATED' },
    FULLMIGRATING: { succeed: 'SUCCESS', incremental: 'INCRMIGEATING', fail: 'FAILED', stop: 'TERMINATING' },
    INCRMIGEATING: { resync: 'FULLMIGRATING', fail: 'FAILED', stop: 'TERMINATING', exchange: 'SUCCESS' },
    TERMINATING: { stopped: 'TERMINATED', fail: 'FAILED' },
    TERMINATED: { restart: 'FULLMIGRATING' },
    FAILED: { restart: 'FULLMIGRATING' },
    MIGRATION_FAILED: { restart: 'FULLMIGRATING' },
    SUCCESS: { restart: 'FULLMIGRATING' },
  },
};

const EXPECTED_OPS: Record<TaskOperation, Record<TaskKind, TaskStatus[]>> = {
  delete: {
    backup_import: ['SUCCESS', 'FAILED', 'TERMINATED', 'MIGRATION_FAILED'],
    online: ['RUNNING', 'SUCCESS', 'FAILED', 'TERMINATED', 'MIGRATION_FAILED'],
  },
  update: {
    backup_import: [],
    online: [
      'RUNNING',
      'FULLMIGRATING',
      'INCRMIGEATING',
      'SUCCESS',
      'FAILED',
      'TERMINATED',
      'MIGRATION_FAILED',
    ],
  },
  rollback: { backup_import: [], online: ['SUCCESS'] },
};

describe('task statuses', () => {
  test('are the wire values, INCRMIGEATING spelled as DCS spells it', () => {
    assert.deepEqual(
      [...TASK_STATUSES].sort(),
      [
        'CREATING',
        'FAILED',
        'FULLMIGRATING',
        'INCRMIGEATING',
        'MIGRATING',
        'MIGRATION_FAILED',
        'RUNNING',
        'SUCCESS',
        'TERMINATED',
        'TERMINATING',
      ].sort(),
    );
    assert.ok(!(TASK_STATUSES as readonly string[]).includes('INCRMIGRATING'));
    assert.ok(isTaskStatus('INCRMIGEATING'));
    assert.ok(!isTaskStatus('INCRMIGRATING'));
    assert.ok(!isTaskStatus('incrmigeating'));
  });

  test('active and terminal statuses are disjoint and every final status is terminal', () => {
    for (const s of ACTIVE_STATUSES) assert.ok(!TERMINAL_STATUSES.has(s), s);
    assert.deepEqual([...TERMINAL_STATUSES].sort(), ['FAILED', 'MIGRATION_FAILED', 'SUCCESS', 'TERMINATED']);
    assert.deepEqual(
      [...ACTIVE_STATUSES].sort(),
      ['CREATING', 'FULLMIGRATING', 'INCRMIGEATING', 'MIGRATING', 'TERMINATING'].sort(),
    );
  });

  test('every status in the transition table is a known status', () => {
    for (const [kind, from, event, to] of TRANSITIONS) {
      assert.ok(isTaskStatus(from), `${kind} ${from}`);
      assert.ok(isTaskStatus(to), `${kind} ${to}`);
      assert.ok(EVENTS.includes(event), event);
    }
  });

  test('the table has no duplicate (kind, status, event) rows', () => {
    const keys = TRANSITIONS.map(([k, f, e]) => `${k}|${f}|${e}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  test('the table lists exactly the expected moves', () => {
    const expectedRows = KINDS.flatMap((kind) =>
      Object.entries(EXPECTED[kind]).flatMap(([from, evs]) =>
        Object.entries(evs ?? {}).map(([event, to]) => `${kind} ${from} --${event}--> ${to}`),
      ),
    );
    const actualRows = TRANSITIONS.map(([k, f, e, t]) => `${k} ${f} --${e}--> ${t}`);
    assert.deepEqual(actualRows.sort(), expectedRows.sort());
  });
});

describe('transitions: every kind × status × event', () => {
  for (const kind of KINDS) {
    for (const from of TASK_STATUSES) {
      for (const event of EVENTS) {
        const to = EXPECTED[kind][from]?.[event] ?? null;
        test(`${kind} ${from} --${event}--> ${to ?? 'refused'}`, () => {
          assert.equal(nextStatus(kind, from, event), to);
          assert.equal(canTransition(kind, from, event), to !== null);
          const inTable = TRANSITIONS.some(([k, f, e]) => k === kind && f === from && e === event);
          assert.equal(inTable, to !== null);
        });
      }
    }
  }
});

describe('operations allowed by status', () => {
  for (const op of Object.keys(OPS) as TaskOperation[]) {
    for (const kind of KINDS) {
      for (const status of TASK_STATUSES) {
        const ok = EXPECTED_OPS[op][kind].includes(status);
        test(`${op} a ${kind} task in ${status}: ${ok ? 'allowed' : 'refused'}`, () => {
          assert.equal(allowed(kind, status, op), ok);
        });
      }
    }
  }

  test('no task with a running executor can be deleted', () => {
    for (const kind of KINDS) {
      for (const s of ACTIVE_STATUSES) assert.equal(allowed(kind, s, 'delete'), false, `${kind} ${s}`);
    }
  });
});
