/**
 * State as the signals see it: a few kinds of slot, each a key the signal names, that every store
 * provides alike. A signal plans the slots a request needs; the store reads them all at once — at
 * most one Redis round trip for the whole request — and answers in the plan's order. What a
 * signal learns from an answer comes back as slot writes. A new signal brings its own keys and
 * needs no change to a store or a Lua script.
 *
 * Kinds: a sliding-window count; a bounded set (its size, or whether it holds a member); a record
 * of string fields; a value stored through a codec.
 */

/** How a value slot is stored in shared state. The local store keeps the value itself. */
export interface Codec<T> {
  encode(value: T): string;
  /** undefined for text it cannot read (a value from an older version, say). */
  decode(text: string): T | undefined;
}

export const jsonCodec = <T>(restore: (parsed: T) => T = (v) => v): Codec<T> => ({
  encode: (value) => JSON.stringify(value),
  decode: (text) => {
    try {
      return restore(JSON.parse(text) as T);
    } catch {
      return undefined;
    }
  },
});

/**
 * A slot is named by its space (the signal's kind of thing: `seen`, `dev`, `f:ip`) and an id in
 * it (a subject, an address; '' for a space of one). The local store keys a cache per space by
 * the id itself, so a lookup hashes the subject string it already has; only shared state needs
 * the joined key (slotKey).
 */
export type SlotRead =
  | { kind: 'count'; space: string; id: string; windowMs: number }
  | { kind: 'size'; space: string; id: string }
  | { kind: 'member'; space: string; id: string; member: string }
  | { kind: 'record'; space: string; id: string }
  | { kind: 'value'; space: string; id: string; codec: Codec<unknown> };

/** The key of a slot in shared state (before the policy's prefix). */
export function slotKey(space: string, id: string): string {
  return id === '' ? space : `${space}:${id}`;
}

export interface Membership {
  isMember: boolean;
  /** Members in the set. */
  size: number;
}

/** A record's fields, as stored (numbers come back as text from Redis: read with Number()). */
export type Fields = Readonly<Record<string, string | number>>;

/**
 * The reads of one request, from every signal, in the order the store answers them. A slot two
 * signals both ask for (a subject's devices, say) is read once.
 */
export class StatePlan {
  readonly reads: SlotRead[] = [];

  private add(read: SlotRead): number {
    const reads = this.reads;
    for (let i = 0; i < reads.length; i++) {
      const r = reads[i]!;
      if (r.kind !== read.kind || r.id !== read.id || r.space !== read.space) continue;
      if (r.kind === 'member' && r.member !== (read as typeof r).member) continue;
      if (r.kind === 'count' && r.windowMs !== (read as typeof r).windowMs) continue;
      return i;
    }
    return reads.push(read) - 1;
  }

  /** Events counted in the last `windowMs`. Never served from a cache. */
  count(space: string, id: string, windowMs: number): number {
    return this.add({ kind: 'count', space, id, windowMs });
  }

  size(space: string, id: string): number {
    return this.add({ kind: 'size', space, id });
  }

  member(space: string, id: string, member: string): number {
    return this.add({ kind: 'member', space, id, member });
  }

  record(space: string, id: string): number {
    return this.add({ kind: 'record', space, id });
  }

  value<T>(space: string, id: string, codec: Codec<T>): number {
    return this.add({ kind: 'value', space, id, codec: codec as Codec<unknown> });
  }
}

/** What the store answered, by the index each plan call returned. */
export interface StateView {
  readonly values: readonly unknown[];
  /** Shared state was needed and could not be read: the local store answered. */
  readonly degraded: boolean;
}

export const EMPTY_VIEW: StateView = Object.freeze({ values: Object.freeze([]), degraded: false });

export const countAt = (view: StateView, i: number): number => (view.values[i] as number | undefined) ?? 0;
export const membershipAt = (view: StateView, i: number): Membership =>
  (view.values[i] as Membership | undefined) ?? { isMember: false, size: 0 };
export const recordAt = (view: StateView, i: number): Fields | undefined =>
  view.values[i] as Fields | undefined;
export const valueAt = <T>(view: StateView, i: number): T | undefined => view.values[i] as T | undefined;

export type SlotWrite =
  | { kind: 'count'; space: string; id: string; windowMs: number }
  | { kind: 'add'; space: string; id: string; member: string; max: number; ttlMs: number; urgent: boolean }
  | { kind: 'record'; space: string; id: string; fields: Fields; ttlMs: number }
  | { kind: 'value'; space: string; id: string; value: unknown; codec: Codec<unknown>; ttlMs: number };

/**
 * The writes of one answered request. Counts (and adds marked urgent) reach shared state at once,
 * since the next attempt — perhaps at a sibling — must see them; records, values and other adds
 * are batched, each slot's last write winning.
 */
export class StateWrites {
  readonly writes: SlotWrite[] = [];

  count(space: string, id: string, windowMs: number): void {
    this.writes.push({ kind: 'count', space, id, windowMs });
  }

  /** Adds `member` while the set holds fewer than `max`; the set lives `ttlMs` from now. */
  add(space: string, id: string, member: string, max: number, ttlMs: number, urgent = false): void {
    this.writes.push({ kind: 'add', space, id, member, max, ttlMs, urgent });
  }

  record(space: string, id: string, fields: Fields, ttlMs: number): void {
    this.writes.push({ kind: 'record', space, id, fields, ttlMs });
  }

  value<T>(space: string, id: string, value: T, codec: Codec<T>, ttlMs: number): void {
    this.writes.push({ kind: 'value', space, id, value, codec: codec as Codec<unknown>, ttlMs });
  }
}

export const isUrgent = (w: SlotWrite): boolean => w.kind === 'count' || (w.kind === 'add' && w.urgent);
