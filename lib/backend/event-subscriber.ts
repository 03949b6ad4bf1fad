/**
 * One pub/sub connection per process, shared by every handle that listens: a channel is
 * subscribed while at least one listener wants it and unsubscribed after the last one leaves.
 */
import type { Redis } from 'ioredis';

export type ChannelListener = (message: string) => void;

interface Channel {
  listeners: Set<ChannelListener>;
  subscribed: Promise<unknown>;
}

export class EventSubscriber {
  private readonly channels = new Map<string, Channel>();
  private attached = false;

  constructor(private readonly connect: () => Redis) {}

  /** Resolves once Redis confirmed the subscription, so no later message can be missed. */
  async listen(channel: string, listener: ChannelListener): Promise<() => void> {
    const client = this.connect();
    if (!this.attached) {
      client.on('message', (name: string, message: string) => {
        for (const listener of this.channels.get(name)?.listeners ?? []) {
          // One listener's bug must not reach ioredis' event emitter (it would crash the process).
          try {
            listener(message);
          } catch {
            /* the listener owns its errors */
          }
        }
      });
      this.attached = true;
    }
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), subscribed: client.subscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    const stop = () => this.unlisten(client, channel, listener);
    try {
      await entry.subscribed;
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  private unlisten(client: Redis, channel: string, listener: ChannelListener): void {
    const entry = this.channels.get(channel);
    if (!entry || !entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.channels.delete(channel);
    // Best effort: a closed connection has no subscriptions left anyway.
    client.unsubscribe(channel).catch(() => undefined);
  }
}
