/** Coport types, poll events, handle rights and limits (spec §3.1–§3.3). */
import * as t from 'io-ts';
import { Perm } from '@comsg/capmachine';
import { codeOf } from '@comsg/abi';

export const CoportType = { COPIPE: 1, COCARRIER: 2, COCHANNEL: 3 } as const;
export type CoportTypeName = keyof typeof CoportType;
export const CoportTypeC = codeOf<CoportTypeName>('CoportType', CoportType);
export const COPORT_TYPES: readonly CoportTypeName[] = ['COPIPE', 'COCARRIER', 'COCHANNEL'];

/** copoll events; `revents = requested ∩ current`. */
export const PollEvent = { CLOSED: 1, IN: 2, OUT: 4, RERR: 8, WERR: 16 } as const;
export type PollEventName = keyof typeof PollEvent;
export const ALL_EVENTS = 31;

/**
 * Rights a coport handle carries (software permission bits, as comsg's SW2/SW3). Handles are
 * sealed, so rights only ever shrink: `corestrict` derives a handle with fewer.
 */
export const CoportRight = { RECV: Perm.SW2, SEND: Perm.SW3, CLOSE: Perm.SW0 } as const;
export const ALL_RIGHTS = CoportRight.RECV | CoportRight.SEND | CoportRight.CLOSE;
export const RightsC = t.refinement(t.number, (n): n is number => Number.isInteger(n) && (n & ~ALL_RIGHTS) === 0, 'CoportRights');

/** Attachment kinds that may travel with a COCARRIER message (cosend_oob). */
export const AttachmentType = { INVALID: 0, RESERVATION: 1, COPORT: 2, COEVENT: 3 } as const;
export type AttachmentTypeName = keyof typeof AttachmentType;
export const MAX_ATTACHMENTS = 4;

export interface IpcdLimits {
  /** Live ports per type (slots are recycled with generations). */
  readonly portsPerType: number;
  /** Default COCHANNEL ring size in bytes (comsg: 4096). */
  readonly channelBytes: number;
  /** Largest COCHANNEL ring a coopen may ask for. */
  readonly maxChannelBytes: number;
  /** Largest COCARRIER message (comsg: 2 MiB). */
  readonly maxMessageBytes: number;
  /** Messages queued per COCARRIER port (comsg: 256). */
  readonly queueDepth: number;
  /** ipcd's own memory for rings and carrier copies. */
  readonly arenaBytes: number;
  /** Quota: ports one co-process may have open (not yet released) at once; EDQUOT beyond. */
  readonly portsPerProcess: number;
}

export const DEFAULT_IPCD_LIMITS: IpcdLimits = {
  portsPerType: 256,
  channelBytes: 4096,
  maxChannelBytes: 1 << 16,
  maxMessageBytes: 1 << 16,
  queueDepth: 256,
  arenaBytes: 4 << 20,
  portsPerProcess: 64,
};
