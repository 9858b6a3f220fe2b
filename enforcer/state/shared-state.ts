/**
 * What an enforcer shares with its siblings and the operator through Redis, as one component:
 * the state store, and — inside a pod — the config channel it applies pushed policies from, the
 * report of the config it runs, and the client that reads feeds the operator shared. Loaded only
 * when Redis is configured: a standalone enforcer carries none of it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import {
  configChannel,
  ISSUED_AT_FILE,
  SIGNER_KEY_FILE,
  type Verdict,
  verifyConfigMessage,
} from '../../contract/config-message.ts';
import { REPORT_INTERVAL_MS } from '../../contract/enforcer-report.ts';
import { policyScope } from '../../contract/redis-keys.ts';
import type { Component } from '../../lib/components.ts';
import type { SharedFeeds } from '../feeds/feed-source.ts';
import { redisSharedFeeds } from '../feeds/shared-feeds.ts';
import { subscribeToConfig } from '../policy/config-channel.ts';
import type { PolicyHolder } from '../policy/policy-holder.ts';
import type { MemoryStateStore } from './memory-store.ts';
import { RedisStateStore } from './redis-store.ts';

export interface Pod {
  name: string;
  namespace: string;
}

export interface SharedStateOptions {
  url: string;
  local: MemoryStateStore;
  commandTimeoutMs?: number;
  /** Set inside a pod: enables the config channel, the report and shared feeds. */
  pod?: Pod | undefined;
  /** The mounted policy file; its ConfigMap also holds the operator's key and the issue time. */
  policyPath: string;
  onError: (err: Error) => void;
  /** Told what became of each message on the config channel. */
  onPushed?: (result: 'applied' | Extract<Verdict, { ok: false }>['reason']) => void;
}

export class SharedState implements Component {
  readonly name = 'shared-state';
  readonly store: RedisStateStore;
  private readonly options: SharedStateOptions;
  private readonly feedClient: Redis | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private holder: PolicyHolder | undefined;
  /** The issue time of the newest pushed config applied. */
  private appliedIssuedAt = 0;

  constructor(options: SharedStateOptions) {
    this.options = options;
    this.store = new RedisStateStore({
      url: options.url,
      scope: policyScope(options.pod?.namespace ?? 'default', 'policy'),
      local: options.local,
      ...(options.commandTimeoutMs ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
      onError: options.onError,
    });
    if (options.pod) {
      this.feedClient = new Redis(options.url, {
        maxRetriesPerRequest: 1,
        commandTimeout: 2000,
        retryStrategy: (n) => Math.min(100 * n, 2000),
      });
      this.feedClient.on('error', () => {});
    }
  }

  /** Feeds the operator shared for a policy; undefined outside a pod (URL feeds are fetched). */
  sharedFeeds(): ((namespace: string, policy: string) => SharedFeeds) | undefined {
    return this.feedClient ? redisSharedFeeds(this.feedClient) : undefined;
  }

  /** Follows the running policy: its keys' scope, its config channel, its report. */
  follow(holder: PolicyHolder): void {
    this.holder = holder;
    holder.on('reload', (result) => {
      if (result.ok) this.store.setScope(this.scope());
      this.report();
    });
  }

  private scope(): string {
    const policy = this.holder?.current;
    return policyScope(
      policy?.namespace ?? this.options.pod?.namespace ?? 'default',
      policy?.name ?? 'policy',
    );
  }

  private report(): void {
    const pod = this.options.pod;
    const policy = this.holder?.current;
    if (pod && policy) this.store.reportConfig(pod.name, policy.hash);
  }

  /** Connections open as the component is built; nothing to wait for. */
  start(): void {}

  /** Once the first policy runs: take its pushed configs and report the config it runs. */
  subscribe(): void {
    const policy = this.holder?.current;
    this.store.setScope(this.scope());
    if (!this.options.pod || !policy) return;
    this.unsubscribe = subscribeToConfig(this.options.url, configChannel(this.scope()), (text) => {
      void this.onPushed(text);
    });
    const first = setTimeout(() => this.report(), 1000);
    const every = setInterval(() => this.report(), REPORT_INTERVAL_MS);
    first.unref();
    every.unref();
    this.timers.push(first, every);
  }

  /**
   * A pushed config applies only when the operator signed it for this policy and it is newer
   * than both the mounted one and the last one pushed (contract/config-message.ts); anything
   * else is counted and dropped, and the mounted ConfigMap stays the way configs arrive.
   */
  private async onPushed(text: string): Promise<void> {
    const dir = dirname(this.options.policyPath);
    const [publicKeyPem, issued] = await Promise.all([
      readFile(join(dir, SIGNER_KEY_FILE), 'utf8').catch(() => undefined),
      readFile(join(dir, ISSUED_AT_FILE), 'utf8').catch(() => '0'),
    ]);
    const verdict = verifyConfigMessage(text, {
      scope: this.scope(),
      publicKeyPem,
      newerThan: Math.max(Number.parseInt(issued, 10) || 0, this.appliedIssuedAt),
    });
    if (!verdict.ok) {
      this.options.onPushed?.(verdict.reason);
      return;
    }
    this.appliedIssuedAt = verdict.message.issuedAt;
    const result = await this.holder?.applyText(verdict.message.config);
    if (result?.ok) this.options.onPushed?.('applied');
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.unsubscribe?.();
    this.feedClient?.disconnect();
    await this.store.close();
  }
}
