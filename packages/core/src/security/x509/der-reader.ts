import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';

/**
 * A strict DER reader for what peers and workloads send us (CSRs, certificates). It is the one
 * parser of record for untrusted X.509 input in Weft, for three reasons (bad-inputs E15):
 * - it is iterative, with caps on size, depth and element count, so hostile nesting cannot
 *   exhaust the stack (node-forge CVE-2025-66031 was unbounded recursion in its decoder);
 * - it keeps every element's exact byte range, so signatures are checked over the bytes that
 *   were signed, never over a re-encoding (a re-encoding that differs from the input is how
 *   validator desyncs such as CVE-2025-12816 happen);
 * - it accepts DER only: definite, minimal lengths, no trailing bytes, the right primitive or
 *   constructed form for universal types. Whatever BER leniency would let two parsers read one
 *   input two ways is refused.
 */

export type TagClass = 'universal' | 'application' | 'context' | 'private';

export interface DerNode {
  readonly tagClass: TagClass;
  readonly tagNumber: number;
  readonly isConstructed: boolean;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the element. */
  readonly end: number;
  /** The elements inside a constructed one, in order; empty for a primitive one. */
  readonly children: readonly DerNode[];
}

export interface DerLimits {
  /** Bytes of the whole input. */
  readonly maxBytes: number;
  /** Nesting of constructed elements (a certificate needs about 8). */
  readonly maxDepth: number;
  /** Elements in all (a certificate with a few extensions has about 100). */
  readonly maxNodes: number;
}

export const DEFAULT_DER_LIMITS: DerLimits = Object.freeze({
  maxBytes: 64 * 1024,
  maxDepth: 16,
  maxNodes: 4_096,
});

/** Input that is not acceptable DER, or that breaks a cap; the message says where and why. */
export class DerError extends WeftError {
  constructor(message: string) {
    super(ErrorCodes.unauthenticated, message);
    this.name = 'DerError';
  }
}

const CLASSES: readonly TagClass[] = ['universal', 'application', 'context', 'private'];

/** Universal types that DER encodes as primitive only. */
const PRIMITIVE_ONLY = new Set([1, 2, 3, 4, 5, 6, 10, 12, 19, 22, 23, 24, 26, 30]);
/** Universal types that are always constructed (SEQUENCE, SET). */
const CONSTRUCTED_ONLY = new Set([16, 17]);

interface Frame {
  readonly node: MutableNode;
  cursor: number;
}

interface MutableNode extends DerNode {
  readonly children: DerNode[];
}

/** Reads `bytes` as exactly one DER element (nothing may follow it). */
export function readDer(bytes: Uint8Array, limits: DerLimits = DEFAULT_DER_LIMITS): DerNode {
  if (bytes.length > limits.maxBytes) {
    throw new DerError(`DER input of ${bytes.length} bytes is over the ${limits.maxBytes}-byte cap`);
  }
  if (bytes.length === 0) throw new DerError('DER input is empty');
  let nodes = 1;
  const root = readHeader(bytes, 0, bytes.length);
  if (root.end !== bytes.length) {
    throw new DerError(`DER input has ${bytes.length - root.end} trailing byte(s) after its element`);
  }
  const stack: Frame[] = root.isConstructed ? [{ node: root, cursor: root.contentStart }] : [];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if (frame.cursor === frame.node.end) {
      stack.pop();
      continue;
    }
    const child = readHeader(bytes, frame.cursor, frame.node.end);
    nodes += 1;
    if (nodes > limits.maxNodes) throw new DerError(`DER input has more than ${limits.maxNodes} elements`);
    frame.node.children.push(child);
    frame.cursor = child.end;
    if (child.isConstructed) {
      if (stack.length + 1 > limits.maxDepth) {
        throw new DerError(
          `DER input nests deeper than ${limits.maxDepth} levels (at offset ${child.start})`,
        );
      }
      stack.push({ node: child, cursor: child.contentStart });
    }
  }
  return root;
}

/** One element's tag and length, checked against the bytes its parent has left (`limit`). */
function readHeader(bytes: Uint8Array, start: number, limit: number): MutableNode {
  let offset = start;
  const first = byteAt(bytes, offset, limit, 'tag');
  offset += 1;
  const tagClass = CLASSES[first >> 6] as TagClass;
  const isConstructed = (first & 0x20) !== 0;
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    // High tag number form: base 128, minimal, and only for numbers that need it.
    tagNumber = 0;
    for (let count = 0; ; count += 1) {
      const next = byteAt(bytes, offset, limit, 'tag');
      offset += 1;
      if (count === 0 && next === 0x80) throw new DerError(`non-minimal tag at offset ${start}`);
      if (count === 3) throw new DerError(`tag number too large at offset ${start}`);
      tagNumber = tagNumber * 128 + (next & 0x7f);
      if ((next & 0x80) === 0) break;
    }
    if (tagNumber < 0x1f) throw new DerError(`non-minimal tag at offset ${start}`);
  }
  const lengthByte = byteAt(bytes, offset, limit, 'length');
  offset += 1;
  let length = lengthByte;
  if (lengthByte === 0x80) throw new DerError(`indefinite length at offset ${start} (BER, not DER)`);
  if (lengthByte > 0x80) {
    const count = lengthByte & 0x7f;
    if (count > 3) throw new DerError(`length of ${count} bytes at offset ${start} is too large`);
    length = 0;
    for (let index = 0; index < count; index += 1) {
      const next = byteAt(bytes, offset, limit, 'length');
      offset += 1;
      if (index === 0 && next === 0) throw new DerError(`non-minimal length at offset ${start}`);
      length = length * 256 + next;
    }
    if (length < 0x80) throw new DerError(`non-minimal length at offset ${start}`);
  }
  const end = offset + length;
  if (end > limit) {
    throw new DerError(
      `element at offset ${start} claims ${length} bytes, but only ${limit - offset} remain`,
    );
  }
  if (tagClass === 'universal') {
    if (isConstructed && PRIMITIVE_ONLY.has(tagNumber)) {
      throw new DerError(`universal type ${tagNumber} at offset ${start} must be primitive in DER`);
    }
    if (!isConstructed && CONSTRUCTED_ONLY.has(tagNumber)) {
      throw new DerError(`universal type ${tagNumber} at offset ${start} must be constructed`);
    }
    if (tagNumber === 0) throw new DerError(`end-of-contents marker at offset ${start} (BER, not DER)`);
  }
  return { tagClass, tagNumber, isConstructed, start, contentStart: offset, end, children: [] };
}

function byteAt(bytes: Uint8Array, offset: number, limit: number, what: string): number {
  if (offset >= limit) throw new DerError(`truncated ${what} at offset ${offset}`);
  return bytes[offset] as number;
}

/** The content bytes of an element (without tag and length). */
export function contentOf(bytes: Uint8Array, node: DerNode): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset + node.contentStart, node.end - node.contentStart);
}

/** The whole encoding of an element (tag, length and content), as it was received. */
export function encodingOf(bytes: Uint8Array, node: DerNode): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset + node.start, node.end - node.start);
}

/** Universal SEQUENCE with exactly `min`..`max` children, or a DerError naming `what`. */
export function expectSequence(node: DerNode | undefined, what: string, min = 0, max = min): DerNode {
  if (node === undefined || node.tagClass !== 'universal' || node.tagNumber !== 16) {
    throw new DerError(`${what}: expected a SEQUENCE`);
  }
  if (node.children.length < min || node.children.length > max) {
    throw new DerError(
      `${what}: expected ${min === max ? min : `${min} to ${max}`} elements, got ${node.children.length}`,
    );
  }
  return node;
}

/** An element with this universal tag (2 INTEGER, 3 BIT STRING, 4 OCTET STRING, 6 OID, …). */
export function expectUniversal(node: DerNode | undefined, tagNumber: number, what: string): DerNode {
  if (node === undefined || node.tagClass !== 'universal' || node.tagNumber !== tagNumber) {
    throw new DerError(`${what}: expected universal type ${tagNumber}`);
  }
  return node;
}

/** Whether the node is `[tagNumber]` in the context class. */
export function isContextTag(node: DerNode | undefined, tagNumber: number): boolean {
  return node !== undefined && node.tagClass === 'context' && node.tagNumber === tagNumber;
}
