/** What the result backend knows of one task at one moment, decoded from its hash. */
import type { RemoteErrorInfo } from '../common/errors.js';
import { isTaskState, type TaskState } from '../common/task-state.js';

export interface TaskSnapshot {
  id: string;
  queue: string;
  state: TaskState;
  /** Task name, when the message is known. */
  task?: string;
  /** The stored result (SUCCESS), already parsed. */
  result?: unknown;
  /** The recorded error (FAILURE). */
  error?: RemoteErrorInfo;
  /** Last progress meta reported with ctx.progress(). */
  progress?: unknown;
  /** How many times the task has been handed to a worker. */
  deliveries: number;
  createdAt?: Date;
  startedAt?: Date;
  doneAt?: Date;
}

export const SNAPSHOT_FIELDS = ['st', 'env', 'res', 'err', 'prog', 'dlv', 'ct', 'stt', 'dt'] as const;

export function decodeSnapshot(id: string, queue: string, values: (string | null)[]): TaskSnapshot {
  const [st, env, res, err, prog, dlv, ct, stt, dt] = values;
  const snapshot: TaskSnapshot = {
    id,
    queue,
    state: isTaskState(st) ? st : 'PENDING',
    deliveries: dlv ? Number(dlv) : 0,
  };
  if (env) snapshot.task = taskNameOf(env);
  if (res != null) snapshot.result = JSON.parse(res);
  if (err != null) snapshot.error = JSON.parse(err) as RemoteErrorInfo;
  if (prog != null) snapshot.progress = JSON.parse(prog);
  if (ct) snapshot.createdAt = new Date(Number(ct));
  if (stt) snapshot.startedAt = new Date(Number(stt));
  if (dt) snapshot.doneAt = new Date(Number(dt));
  return snapshot;
}

function taskNameOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const name = (parsed as { task?: unknown } | null)?.task;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
