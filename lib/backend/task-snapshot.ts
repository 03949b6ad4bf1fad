/** What the result backend knows of one task at one moment, decoded from its hash. */
import { MalformedMessageError, type RemoteErrorInfo } from '../common/errors.js';
import { isTaskState, type TaskState } from '../common/task-state.js';

export interface TaskSnapshot {
  id: string;
  queue: string;
  state: TaskState;
  /** Task name, when the message is known. */
  task?: string;
  /** The stored result (SUCCESS), already parsed; null for a task that returned nothing. */
  result?: unknown;
  /** The recorded error (FAILURE). */
  error?: RemoteErrorInfo;
  /** Last progress meta reported with ctx.progress(). */
  progress?: unknown;
  /** How many times the task has been handed to a worker (runs, retries and redeliveries included). */
  deliveries: number;
  /** Retries made so far. */
  retries: number;
  /** In RETRY: when the next run is due. */
  nextRunAt?: Date;
  createdAt?: Date;
  startedAt?: Date;
  doneAt?: Date;
}

export const SNAPSHOT_FIELDS = ['st', 'n', 'res', 'err', 'prog', 'dlv', 'ct', 'stt', 'dt', 'rt', 'eta'] as const;

/**
 * Decodes a task's hash fields (in SNAPSHOT_FIELDS order) and, while it has one, its message:
 * until a worker commits its outcome, its name and creation time are only in the message.
 */
export function decodeSnapshot(id: string, queue: string, values: (string | null)[], message: string | null = null): TaskSnapshot {
  const [st, hashName, res, err, prog, dlv, hashCt, stt, dt, rt, eta] = values;
  const sent = hashName && hashCt ? undefined : sentFrom(message);
  const name = hashName || sent?.task;
  const ct = hashCt || sent?.ct;
  const snapshot: TaskSnapshot = {
    id,
    queue,
    state: isTaskState(st) ? st : 'PENDING',
    deliveries: dlv ? Number(dlv) : 0,
    retries: rt ? Number(rt) : 0,
  };
  if (snapshot.state === 'RETRY' && eta) snapshot.nextRunAt = new Date(Number(eta));
  if (name) snapshot.task = name;
  if (res != null) snapshot.result = parseStored(res, 'result');
  // A task that returned nothing has no result field (see commitOutcomes in _prelude.lua).
  else if (snapshot.state === 'SUCCESS') snapshot.result = null;
  if (err != null) snapshot.error = parseStored(err, 'error') as RemoteErrorInfo;
  if (prog != null) snapshot.progress = parseStored(prog, 'progress');
  if (ct) snapshot.createdAt = new Date(Number(ct));
  if (stt) snapshot.startedAt = new Date(Number(stt));
  if (dt) snapshot.doneAt = new Date(Number(dt));
  return snapshot;
}

/** Name and creation time from a message; nothing from one that is not JSON. */
function sentFrom(message: string | null): { task?: string; ct?: string } | undefined {
  if (!message) return undefined;
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { task, ct } = parsed as { task?: unknown; ct?: unknown };
    return {
      ...(typeof task === 'string' ? { task } : {}),
      ...(typeof ct === 'number' && Number.isFinite(ct) ? { ct: String(ct) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Values are written as JSON by our scripts; anything else was written by hand and is reported as such. */
function parseStored(raw: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new MalformedMessageError(`the stored ${what} is not JSON: ${raw.slice(0, 100)}`);
  }
}
