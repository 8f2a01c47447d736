import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { CompletionControl } from '../domain/completions/completion-control.js';
import { connectRedis } from './redis-client.js';

export interface RedisCompletionControlOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
}

/**
 * Cancels travel as Redis pub/sub messages on `<prefix>completion:cancel`
 * (the message is the completion id). Every instance hears every cancel and
 * acts on those it runs. A message sent while an instance is disconnected is
 * lost; the asking instance then returns the completion still running after
 * its wait, and the caller can cancel again.
 */
export class RedisCompletionControl implements CompletionControl {
  private readonly handlers = new Set<(completionId: string) => void>();
  private readonly channel: string;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    keyPrefix: string,
  ) {
    this.channel = `${keyPrefix}completion:cancel`;
    subscriber.on('message', (channel: string, completionId: string) => {
      if (channel !== this.channel) return;
      for (const handler of this.handlers) handler(completionId);
    });
  }

  static async connect({ url, keyPrefix, logger }: RedisCompletionControlOptions): Promise<RedisCompletionControl> {
    const publisher = await connectRedis(url, `${keyPrefix}control-publisher`, logger);
    let subscriber: Redis | undefined;
    try {
      subscriber = await connectRedis(url, `${keyPrefix}control-subscriber`, logger);
      // ioredis subscribes again by itself after a reconnect.
      await subscriber.subscribe(`${keyPrefix}completion:cancel`);
      return new RedisCompletionControl(publisher, subscriber, keyPrefix);
    } catch (error) {
      publisher.disconnect();
      subscriber?.disconnect();
      throw error;
    }
  }

  async requestCancel(completionId: string): Promise<void> {
    await this.publisher.publish(this.channel, completionId);
  }

  onCancel(handler: (completionId: string) => void): void {
    this.handlers.add(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.all([this.publisher.quit(), this.subscriber.quit()]);
  }
}
