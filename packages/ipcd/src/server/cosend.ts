import * as E from 'fp-ts/lib/Either.js';
import { Capability, Perm, isCapabilityFault, sysError, type SysError } from '@comsg/capmachine';
import { bind, type ArgsOf, type OpBinding } from '@comsg/abi';
import { cosend } from '../protocol/cosend.js';
import { fromAttachmentRegisters } from '../protocol/attachments.js';
import { AttachmentType, CoportRight, MAX_ATTACHMENTS, PollEvent } from '../protocol/types.js';
import type { Attachment } from './carrier.js';
import type { Ipcd } from './ipcd.js';

/**
 * COCARRIER send: validate, copy into a fresh arena allocation (tags never travel), queue.
 * A full queue is EAGAIN with WERR raised, and the copy is not made.
 */
export function serveCosend(ipcd: Ipcd): OpBinding {
  const m = ipcd.machine;
  return bind(cosend, (a, call) => {
    const opened = ipcd.open(a.port, 'COSEND');
    if (E.isLeft(opened)) return opened;
    const p = opened.right;
    if (p.table.type !== 'COCARRIER') return E.left(sysError('EOPNOTSUPP', 'COSEND', `${p.table.type} data does not go through ipcd`));
    if ((p.rights & CoportRight.SEND) === 0) return E.left(sysError('EACCES', 'COSEND', 'handle lacks SEND'));
    if (p.port.closed) return E.left(sysError('EPIPE', 'COSEND', 'coport is closed'));
    if (a.len <= 0) return E.left(sysError('EINVAL', 'COSEND', 'length must be positive'));
    if (a.len > ipcd.limits.maxMessageBytes) return E.left(sysError('EMSGSIZE', 'COSEND', `messages are at most ${ipcd.limits.maxMessageBytes} bytes`));
    if (!m.isLive(a.msg) || a.msg.sealed || !a.msg.has(Perm.LOAD)) return E.left(sysError('EINVAL', 'COSEND', 'message is not a readable capability'));
    if (a.msg.address < a.msg.base || a.msg.top - a.msg.address < BigInt(a.len)) return E.left(sysError('ENOBUFS', 'COSEND', `message capability holds fewer than ${a.len} bytes`));
    const atts = attachments(ipcd, a);
    if (!Array.isArray(atts)) return E.left(atts);
    const c = ipcd.carrier;
    if (c.of(p.port).queue.length >= ipcd.limits.queueDepth) {
      c.sync(call.thread, p.port, PollEvent.WERR);
      return E.left(sysError('EAGAIN', 'COSEND', 'queue full'));
    }
    const alloc = ipcd.arena.allocate(a.len);
    if (alloc === undefined) {
      c.sync(call.thread, p.port, PollEvent.WERR);
      return E.left(sysError('ENOMEM', 'COSEND', 'ipcd arena exhausted'));
    }
    try {
      m.copy(alloc.cap, 0, a.msg, 0, a.len, true);
    } catch (e) {
      ipcd.arena.free(alloc);
      if (isCapabilityFault(e)) return E.left(sysError('EINVAL' as const, 'COSEND', `cannot read the message: ${e.message}`));
      throw e;
    }
    const exact = m.setBoundsExact(alloc.cap, BigInt(a.len));
    const view = m.andPerm(exact.tag ? exact : m.setBounds(alloc.cap, BigInt(a.len)), Perm.LOAD);
    c.of(p.port).queue.push({ alloc, len: a.len, view, attachments: atts, receiver: -1 });
    c.sync(call.thread, p.port, 0, PollEvent.WERR);
    return E.right({ queued: a.len });
  });
}

type SendArgs = ArgsOf<typeof cosend>;

/** Attachments: coports must be live handles; reservations and coevents must be sealed. */
function attachments(ipcd: Ipcd, a: SendArgs): Attachment[] | SysError<'EINVAL'> {
  if (a.count < 0 || a.count > MAX_ATTACHMENTS) return sysError('EINVAL', 'COSEND', `0..${MAX_ATTACHMENTS} attachments`);
  const out: Attachment[] = [];
  for (const [i, { cap, kind }] of fromAttachmentRegisters(a, a.count).entries()) {
    if (!Capability.is(cap) || !cap.tag) return sysError('EINVAL', 'COSEND', `attachment ${i} is not a capability`);
    if (kind === AttachmentType.COPORT) {
      if (E.isLeft(ipcd.open(cap, 'COSEND'))) return sysError('EINVAL', 'COSEND', `attachment ${i} is not a live coport`);
    } else if (kind === AttachmentType.RESERVATION || kind === AttachmentType.COEVENT) {
      if (!cap.sealed) return sysError('EINVAL', 'COSEND', `attachment ${i} must be a sealed handle`);
    } else {
      return sysError('EINVAL', 'COSEND', `attachment ${i} has unknown kind ${kind}`);
    }
    out.push({ cap, kind });
  }
  return out;
}
