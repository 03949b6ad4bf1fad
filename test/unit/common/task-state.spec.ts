import { describe, expect, it } from '@jest/globals';
import { isFinalState, isTaskState, TaskStates } from '../../../lib/common/task-state.js';

describe('task states', () => {
  it('lists the Celery states in their order', () => {
    expect(TaskStates).toEqual(['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED']);
  });

  it.each(['SUCCESS', 'FAILURE', 'REVOKED'] as const)('%s is final', (state) => {
    expect(isFinalState(state)).toBe(true);
  });

  it.each(['PENDING', 'STARTED', 'PROGRESS', 'RETRY'] as const)('%s is not final', (state) => {
    expect(isFinalState(state)).toBe(false);
  });

  it('recognises exactly the known state names', () => {
    for (const state of TaskStates) expect(isTaskState(state)).toBe(true);
    for (const other of ['success', 'DONE', '', null, undefined, 3, ['SUCCESS']]) expect(isTaskState(other)).toBe(false);
  });
});
