/**
 * MaxMind DB files (.mmdb: a binary search tree over the bits of an address, then a data
 * section of typed values; https://maxmind.github.io/MaxMind-DB/) read through the page cache
 * instead of into the process. Written here because the `maxmind` package needs the whole file
 * in one Buffer: 45 MB of GeoLite2 City in every sidecar, where this keeps a few MB of hot pages
 * and lets one copy in the node's page cache serve every pod. A test holds it to the `maxmind`
 * package's answers on the real data.
 *
 * Every read is bounds-checked and nesting is limited: a corrupt or hostile file throws
 * MmdbError (or PagedFileError), never loops or reads outside the file.
 */
import { PagedFile } from './paged-file.ts';

const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'); // \xAB\xCD\xEF MaxMind.com
const METADATA_MAX_BYTES = 128 * 1024;
const DATA_SECTION_SEPARATOR = 16;
/** Maps, arrays and pointers nested deeper than this are refused (real files nest ~4). */
const MAX_NESTING = 32;

export class MmdbError extends Error {}

export interface MmdbMetadata {
  nodeCount: number;
  recordSize: 24 | 28 | 32;
  ipVersion: 4 | 6;
  databaseType: string;
}

type Value = unknown;

export class MmdbReader {
  readonly metadata: MmdbMetadata;
  private readonly file: PagedFile;
  private readonly nodeBytes: number;
  private readonly treeSize: number;
  private readonly metadataStart: number;
  private readonly ipv4Root: number;
  /** Where decoding reads next, and what its pointers are relative to. */
  private pos = 0;
  private base = 0;

  /** Keeps at most `maxPages` 4 KB pages of the file in memory. */
  constructor(path: string, maxPages = 1024) {
    this.file = new PagedFile(path, maxPages);
    try {
      this.metadataStart = this.findMetadata();
      this.metadata = this.readMetadata();
      this.nodeBytes = this.metadata.recordSize / 4;
      this.treeSize = this.metadata.nodeCount * this.nodeBytes;
      if (this.treeSize + DATA_SECTION_SEPARATOR > this.metadataStart) {
        throw new MmdbError('the search tree is larger than the file');
      }
      this.ipv4Root = this.findIpv4Root();
    } catch (err) {
      this.file.close();
      throw err;
    }
  }

  /** The record for an address (its words as net/ip.ts parses them), or undefined. */
  lookup(words: Uint32Array, family: 4 | 6): Value | undefined {
    const offset = this.dataOffset(words, family);
    if (offset === 0) return undefined;
    this.base = this.treeSize + DATA_SECTION_SEPARATOR;
    this.pos = offset;
    return this.read(0);
  }

  /** The file offset of an address's record (0 when the file has none): records are shared. */
  dataOffset(words: Uint32Array, family: 4 | 6): number {
    const { nodeCount } = this.metadata;
    let node: number;
    let bits: number;
    if (family === 4) {
      node = this.ipv4Root;
      bits = 32;
    } else {
      if (this.metadata.ipVersion === 4) return 0;
      node = 0;
      bits = 128;
    }
    for (let i = 0; i < bits && node < nodeCount; i++) {
      const word = family === 4 ? words[3]! : words[i >>> 5]!;
      const bit = (word >>> (31 - (i & 31))) & 1;
      node = this.record(node, bit);
    }
    if (node <= nodeCount) return 0; // nodeCount itself means "no data"; below it, bits ran out
    const offset = node - nodeCount + this.treeSize;
    if (offset < this.treeSize + DATA_SECTION_SEPARATOR || offset >= this.metadataStart) {
      throw new MmdbError('a search tree record points outside the data section');
    }
    return offset;
  }

  close(): void {
    this.file.close();
  }

  private record(node: number, right: number): number {
    const b = this.file.bytes(node * this.nodeBytes, this.nodeBytes);
    switch (this.metadata.recordSize) {
      case 24:
        return right ? (b[3]! << 16) | (b[4]! << 8) | b[5]! : (b[0]! << 16) | (b[1]! << 8) | b[2]!;
      case 28:
        return right
          ? ((b[3]! & 0x0f) << 24) | (b[4]! << 16) | (b[5]! << 8) | b[6]!
          : ((b[3]! & 0xf0) << 20) | (b[0]! << 16) | (b[1]! << 8) | b[2]!;
      default:
        return right ? b.readUInt32BE(4) : b.readUInt32BE(0);
    }
  }

  /** IPv4 addresses live under ::/96 of an IPv6 tree; an IPv4 tree starts at its root. */
  private findIpv4Root(): number {
    if (this.metadata.ipVersion === 4) return 0;
    let node = 0;
    for (let i = 0; i < 96 && node < this.metadata.nodeCount; i++) node = this.record(node, 0);
    return node;
  }

  private findMetadata(): number {
    const size = this.file.size;
    const length = Math.min(size, METADATA_MAX_BYTES);
    const tail = this.file.bytes(size - length, length);
    const at = tail.lastIndexOf(METADATA_MARKER);
    if (at === -1) throw new MmdbError('no MaxMind DB metadata (not an .mmdb file)');
    return size - length + at + METADATA_MARKER.length;
  }

  private readMetadata(): MmdbMetadata {
    this.base = this.metadataStart;
    this.pos = this.metadataStart;
    const m = this.read(0) as Record<string, unknown> | undefined;
    if (!m || typeof m !== 'object') throw new MmdbError('metadata is not a map');
    const nodeCount = m['node_count'];
    const recordSize = m['record_size'];
    const ipVersion = m['ip_version'];
    if (typeof nodeCount !== 'number' || !Number.isInteger(nodeCount) || nodeCount <= 0) {
      throw new MmdbError('metadata: node_count is not a positive integer');
    }
    if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32) {
      throw new MmdbError(`metadata: record_size ${String(recordSize)} is not 24, 28 or 32`);
    }
    if (ipVersion !== 4 && ipVersion !== 6) throw new MmdbError('metadata: ip_version is not 4 or 6');
    return {
      nodeCount,
      recordSize,
      ipVersion,
      databaseType: String(m['database_type'] ?? ''),
    };
  }

  private unsigned(bytes: number): number {
    let v = 0;
    for (let i = 0; i < bytes; i++) v = v * 256 + this.file.byte(this.pos++);
    return v;
  }

  private read(depth: number): Value {
    if (depth > MAX_NESTING) throw new MmdbError('data nested too deeply (a pointer loop?)');
    const file = this.file;
    const control = file.byte(this.pos++);
    let type = control >> 5;
    if (type === 1) {
      const size = (control >> 3) & 3;
      const high = control & 7;
      let pointer: number;
      if (size === 0) pointer = high * 256 + this.unsigned(1);
      else if (size === 1) pointer = high * 65536 + this.unsigned(2) + 2048;
      else if (size === 2) pointer = high * 16777216 + this.unsigned(3) + 526336;
      else pointer = this.unsigned(4);
      const after = this.pos;
      this.pos = this.base + pointer;
      const value = this.read(depth + 1);
      this.pos = after;
      return value;
    }
    if (type === 0) type = 7 + file.byte(this.pos++);
    let size = control & 0x1f;
    if (size === 29) size = 29 + this.unsigned(1);
    else if (size === 30) size = 285 + this.unsigned(2);
    else if (size === 31) size = 65821 + this.unsigned(3);
    if (this.pos + (type === 7 || type === 11 ? size : type === 14 ? 0 : size) > file.size) {
      throw new MmdbError('a value runs past the end of the file');
    }
    switch (type) {
      case 2: {
        const text = file.bytes(this.pos, size).toString('utf8');
        this.pos += size;
        return text;
      }
      case 3: {
        if (size !== 8) throw new MmdbError(`a double of ${size} bytes`);
        const value = file.bytes(this.pos, 8).readDoubleBE(0);
        this.pos += 8;
        return value;
      }
      case 4: {
        const bytes = Buffer.from(file.bytes(this.pos, size));
        this.pos += size;
        return bytes;
      }
      case 5:
      case 6:
      case 9:
      case 10: {
        const limit = type === 5 ? 2 : type === 6 ? 4 : type === 9 ? 8 : 16;
        if (size > limit) throw new MmdbError(`an unsigned integer of ${size} bytes`);
        return this.unsigned(size);
      }
      case 7: {
        // Null prototype: keys come from the file, and "__proto__" must stay a plain key.
        const map: Record<string, Value> = Object.create(null);
        for (let i = 0; i < size; i++) {
          const key = this.read(depth + 1);
          if (typeof key !== 'string') throw new MmdbError('a map key is not a string');
          map[key] = this.read(depth + 1);
        }
        return map;
      }
      case 8: {
        if (size > 4) throw new MmdbError(`an int32 of ${size} bytes`);
        const v = this.unsigned(size);
        return size === 4 ? v | 0 : v;
      }
      case 11: {
        const list: Value[] = [];
        for (let i = 0; i < size; i++) list.push(this.read(depth + 1));
        return list;
      }
      case 14:
        return size !== 0;
      case 15: {
        if (size !== 4) throw new MmdbError(`a float of ${size} bytes`);
        const value = file.bytes(this.pos, 4).readFloatBE(0);
        this.pos += 4;
        return value;
      }
      default:
        throw new MmdbError(`data of unknown type ${type}`);
    }
  }
}
