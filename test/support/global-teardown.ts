export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __TQ_REDIS__?: { stop(): Promise<void> } }).__TQ_REDIS__?.stop();
}
