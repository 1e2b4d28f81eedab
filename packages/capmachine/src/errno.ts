/**
 * errno values as FreeBSD/CheriBSD number them, and the typed error every expected failure
 * of the machine's system interface is returned as (`Either.left`). Errors are values with
 * a `_tag` equal to the errno name, so callers can `switch` on them exhaustively.
 */
export const Errno = {
  EPERM: 1,
  EBADF: 9,
  ENOENT: 2,
  ESRCH: 3,
  ENXIO: 6,
  ENOEXEC: 8,
  EINTR: 4,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ENOBUFS: 55,
  EPIPE: 32,
  /** Same number as EAGAIN (as on FreeBSD); listed first so 35 decodes as EAGAIN. */
  EWOULDBLOCK: 35,
  EAGAIN: 35,
  EDEADLK: 11,
  EPROTOTYPE: 41,
  EMSGSIZE: 40,
  EOPNOTSUPP: 45,
  ETIMEDOUT: 60,
  ENAMETOOLONG: 63,
  ENOTEMPTY: 66,
  EDQUOT: 69,
  ENOSYS: 78,
  ENOMSG: 83,
  EBADMSG: 89,
  ENOLINK: 91,
  EINTEGRITY: 97,
  EDEFECT: 1000, // not FreeBSD: a bug inside a daemon, caught at its boundary
} as const;
export type ErrnoName = keyof typeof Errno;

/** An expected failure of a system operation. */
export interface SysError<N extends ErrnoName = ErrnoName> {
  readonly _tag: N;
  readonly errno: (typeof Errno)[N];
  /** The operation that failed, e.g. `cocall`. */
  readonly op: string;
  readonly message: string;
}

export function sysError<N extends ErrnoName>(name: N, op: string, message: string): SysError<N> {
  return Object.freeze({ _tag: name, errno: Errno[name], op, message });
}

const byNumber = new Map<number, ErrnoName>((Object.keys(Errno) as ErrnoName[]).map((n) => [Errno[n], n]));

export function errnoName(errno: number): ErrnoName | undefined {
  return byNumber.get(errno);
}
