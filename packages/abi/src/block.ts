/**
 * The argument block: every microkernel call is one 256-byte, 16-byte-aligned block in
 * capmachine memory, sent and answered in place (comsg_args_t). Header {status, error, op};
 * then "registers": six capability slots, six 32-bit integers and one 92-byte name field.
 * Each op declares which registers carry its arguments and results.
 */
import { NULL_CAP, type Capability, type CapMachine } from '@comsg/capmachine';

export const ARGS_SIZE = 256;
export const OFF_STATUS = 0;
export const OFF_ERROR = 4;
export const OFF_OP = 8;
const CAP_BASE = 16;
const INT_BASE = 112;
export const OFF_NAME = 144;
/** NS_NAME_LEN: 92 bytes, so names are 1..91 characters plus the terminator. */
export const NAME_FIELD = 92;
export const NAME_MAX = NAME_FIELD - 1;

export type Slot =
  | { readonly kind: 'cap'; readonly offset: number }
  | { readonly kind: 'i32'; readonly offset: number }
  | { readonly kind: 'name'; readonly offset: number };

export const Reg = {
  c0: { kind: 'cap', offset: CAP_BASE },
  c1: { kind: 'cap', offset: CAP_BASE + 16 },
  c2: { kind: 'cap', offset: CAP_BASE + 32 },
  c3: { kind: 'cap', offset: CAP_BASE + 48 },
  c4: { kind: 'cap', offset: CAP_BASE + 64 },
  c5: { kind: 'cap', offset: CAP_BASE + 80 },
  i0: { kind: 'i32', offset: INT_BASE },
  i1: { kind: 'i32', offset: INT_BASE + 4 },
  i2: { kind: 'i32', offset: INT_BASE + 8 },
  i3: { kind: 'i32', offset: INT_BASE + 12 },
  i4: { kind: 'i32', offset: INT_BASE + 16 },
  i5: { kind: 'i32', offset: INT_BASE + 20 },
  name: { kind: 'name', offset: OFF_NAME },
} as const satisfies Record<string, Slot>;

const latin1 = new TextDecoder('latin1');

/** Write one register. Names are written as bytes (up to 91) and NUL-padded. */
export function writeSlot(m: CapMachine, block: Capability, slot: Slot, value: unknown): void {
  switch (slot.kind) {
    case 'cap':
      m.storeCap(block, slot.offset, value === undefined ? NULL_CAP : (value as Capability));
      return;
    case 'i32':
      m.storeI32(block, slot.offset, Number(value));
      return;
    case 'name': {
      const field = new Uint8Array(NAME_FIELD);
      const s = String(value);
      for (let i = 0; i < Math.min(s.length, NAME_FIELD); i++) field[i] = s.charCodeAt(i) & 0xff;
      m.store(block, slot.offset, field);
      return;
    }
  }
}

/** Read one register as raw data (validation is the op codec's job). */
export function readSlot(m: CapMachine, block: Capability, slot: Slot): unknown {
  switch (slot.kind) {
    case 'cap':
      return m.loadCap(block, slot.offset);
    case 'i32':
      return m.loadI32(block, slot.offset);
    case 'name': {
      const bytes = m.load(block, slot.offset, NAME_FIELD);
      const end = bytes.indexOf(0);
      // A name with no terminator within 92 bytes is too long; keep all 92 so the codec sees it.
      return latin1.decode(end < 0 ? bytes : bytes.subarray(0, end));
    }
  }
}

export interface BlockHeader {
  readonly status: number;
  readonly error: number;
  readonly op: number;
}

export function readHeader(m: CapMachine, block: Capability): BlockHeader {
  return { status: m.loadI32(block, OFF_STATUS), error: m.loadI32(block, OFF_ERROR), op: m.loadI32(block, OFF_OP) };
}

export function writeHeader(m: CapMachine, block: Capability, h: BlockHeader): void {
  m.storeI32(block, OFF_STATUS, h.status);
  m.storeI32(block, OFF_ERROR, h.error);
  m.storeI32(block, OFF_OP, h.op);
}
