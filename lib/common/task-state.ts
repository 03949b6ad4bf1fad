/** The states a task goes through, named as Celery names them. */
export const TaskStates = ['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'] as const;

export type TaskState = (typeof TaskStates)[number];

const FINAL: ReadonlySet<TaskState> = new Set<TaskState>(['SUCCESS', 'FAILURE', 'REVOKED']);

export function isFinalState(state: TaskState): boolean {
  return FINAL.has(state);
}

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && (TaskStates as readonly string[]).includes(value);
}
