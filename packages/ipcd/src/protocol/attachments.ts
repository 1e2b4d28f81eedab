/**
 * How up to MAX_ATTACHMENTS attachments travel in an argument block: capabilities in c2..c5,
 * their kinds in i2..i5 (COSEND's arguments and CORECV's results share the layout).
 */
import * as t from 'io-ts';
import type { Capability } from '@comsg/capmachine';
import { OptionalCapC, Reg } from '@comsg/abi';

export const attachmentFields = {
  att0: OptionalCapC,
  att1: OptionalCapC,
  att2: OptionalCapC,
  att3: OptionalCapC,
  kind0: t.number,
  kind1: t.number,
  kind2: t.number,
  kind3: t.number,
};

export const attachmentSlots = {
  att0: Reg.c2,
  att1: Reg.c3,
  att2: Reg.c4,
  att3: Reg.c5,
  kind0: Reg.i2,
  kind1: Reg.i3,
  kind2: Reg.i4,
  kind3: Reg.i5,
} as const;

export interface AttachmentRegisters {
  readonly att0: Capability | undefined;
  readonly att1: Capability | undefined;
  readonly att2: Capability | undefined;
  readonly att3: Capability | undefined;
  readonly kind0: number;
  readonly kind1: number;
  readonly kind2: number;
  readonly kind3: number;
}

/** Spread a list of (capability, kind) into the registers; unused ones are empty. */
export function toAttachmentRegisters(list: ReadonlyArray<{ readonly cap: Capability; readonly kind: number }>): AttachmentRegisters {
  return {
    att0: list[0]?.cap,
    att1: list[1]?.cap,
    att2: list[2]?.cap,
    att3: list[3]?.cap,
    kind0: list[0]?.kind ?? 0,
    kind1: list[1]?.kind ?? 0,
    kind2: list[2]?.kind ?? 0,
    kind3: list[3]?.kind ?? 0,
  };
}

/** The first `count` (capability, kind) pairs from the registers. */
export function fromAttachmentRegisters(r: AttachmentRegisters, count: number): Array<{ cap: Capability | undefined; kind: number }> {
  const caps = [r.att0, r.att1, r.att2, r.att3];
  const kinds = [r.kind0, r.kind1, r.kind2, r.kind3];
  return caps.slice(0, Math.max(0, Math.min(count, caps.length))).map((cap, i) => ({ cap, kind: kinds[i]! }));
}
