/**
 * The task message: a small, versioned JSON envelope. Built by the producer, validated by
 * the worker; anything that does not validate is dead-lettered with the reason.
 */
import { MalformedMessageError } from './errors.js';

export const ENVELOPE_VERSION = 1;

export interface TaskEnvelope {
  v: number;
  id: string;
  task: string;
  args: unknown[];
  queue: string;
  attempt: number;
  /** Epoch ms when it was sent (a task waiting to run has no hash: this is its creation time). */
  ct?: number;
  /** Epoch ms before which the task must not run. */
  eta?: number;
  /** Epoch ms after which the task must not start. */
  expires?: number;
  /** 1-9 when sent with a priority above the default 0. */
  priority?: number;
  parent?: string;
  root?: string;
  /** The sender's reply channel (see ReplyInbox): the worker publishes the outcome there too. */
  reply?: string;
  headers: Record<string, string>;
}

/**
 * The message text of an envelope, as JSON.stringify would give it for the keys in the order of
 * TaskEnvelope, built by hand: JSON.stringify walking the envelope's own keys and short strings
 * cost the producer almost as much again as its arguments (measured). Numbers must be finite
 * (the producer checks them).
 */
export function encodeEnvelope(e: TaskEnvelope): string {
  let json = `{"v":${e.v},"id":${jsonString(e.id)},"task":${jsonString(e.task)},"args":${JSON.stringify(e.args)}`;
  json += `,"queue":${jsonString(e.queue)},"attempt":${e.attempt}`;
  if (e.ct !== undefined) json += `,"ct":${e.ct}`;
  if (e.eta !== undefined) json += `,"eta":${e.eta}`;
  if (e.expires !== undefined) json += `,"expires":${e.expires}`;
  if (e.priority !== undefined) json += `,"priority":${e.priority}`;
  if (e.parent !== undefined) json += `,"parent":${jsonString(e.parent)}`;
  if (e.root !== undefined) json += `,"root":${jsonString(e.root)}`;
  if (e.reply !== undefined) json += `,"reply":${jsonString(e.reply)}`;
  return `${json},"headers":${isEmpty(e.headers) ? '{}' : JSON.stringify(e.headers)}}`;
}

/** What JSON.stringify escapes in a string: quote, backslash, control characters, surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function isEmpty(record: Record<string, string>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

/** Parses and validates a raw message; throws MalformedMessageError naming the first problem. */
export function parseEnvelope(raw: string): TaskEnvelope {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (e) {
    throw new MalformedMessageError(`not JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new MalformedMessageError('not a JSON object');
  }
  const m = data as Record<string, unknown>;
  if (m.v !== ENVELOPE_VERSION) throw new MalformedMessageError(`unsupported version ${JSON.stringify(m.v)}`);
  requireString(m, 'id');
  requireString(m, 'task');
  requireString(m, 'queue');
  if (!Array.isArray(m.args)) throw new MalformedMessageError('"args" is not an array');
  if (!Number.isInteger(m.attempt) || (m.attempt as number) < 1) {
    throw new MalformedMessageError('"attempt" is not a positive integer');
  }
  for (const key of ['ct', 'eta', 'expires', 'priority'] as const) {
    if (m[key] !== undefined && typeof m[key] !== 'number') throw new MalformedMessageError(`"${key}" is not a number`);
  }
  for (const key of ['parent', 'root', 'reply'] as const) {
    if (m[key] !== undefined && typeof m[key] !== 'string') throw new MalformedMessageError(`"${key}" is not a string`);
  }
  const headers = m.headers;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new MalformedMessageError('"headers" is not an object');
  }
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new MalformedMessageError(`header "${key}" is not a string`);
  }
  return m as unknown as TaskEnvelope;
}

function requireString(m: Record<string, unknown>, key: string): void {
  if (typeof m[key] !== 'string' || (m[key] as string).length === 0) {
    throw new MalformedMessageError(`"${key}" is missing or not a non-empty string`);
  }
}
