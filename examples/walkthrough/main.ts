/**
 * A short walk through the capability machine: boot it, carve capabilities out of the root,
 * watch CC128 round bounds, seal a capability, and catch the faults CHERI raises when a
 * program oversteps its authority.
 */
import * as E from 'fp-ts/lib/Either.js';
import { CapMachine, Perm, PermSet, cc128, type Capability } from '@comsg/capmachine';

const log = (label: string, value: unknown): void => console.log(`${label.padEnd(34)} ${String(value)}`);

const { machine, roots } = CapMachine.boot({ memoryBytes: 1 << 20 });
log('root memory capability', roots.memory);

// A 4 KiB heap region: exactly representable, so the bounds are what we asked for.
const heap = machine.restrict(roots.memory, 0x1_0000n, 0x1000n, PermSet.DATA);
log('heap (exact 4 KiB)', heap);

// 0x1001 bytes at an odd address cannot be encoded exactly: CC128 rounds outwards.
const odd = machine.setBounds(machine.setAddress(roots.memory, 0x2_0003n), 0x1001n);
log('0x1001 bytes at 0x20003 (rounded)', odd);
log('  representable length of 0x1001', `0x${cc128.representableLength(0x1001n).toString(16)}`);
log('  memory form of its upper half', `0x${odd.memoryPesbt.toString(16).padStart(16, '0')}`);

// Read-only view: permissions only ever shrink.
const ro = machine.andPerm(heap, Perm.LOAD | Perm.GLOBAL);
log('read-only view', ro);
log('  and-perm cannot add STORE back', machine.andPerm(ro, PermSet.DATA));

// Widening bounds is impossible: the result loses its tag.
log('setBounds wider than parent', machine.setBounds(ro, 0x2000n));

machine.store(heap, 0, new TextEncoder().encode('hello, capabilities'));
log('load through read-only view', new TextDecoder().decode(machine.load(ro, 0, 19)));

// Store through the read-only view: CHERI traps; attempt() returns the fault as a value.
const storeRo = machine.attempt((m) => m.store(ro, 0, Uint8Array.of(1)));
log('store through read-only view', E.isLeft(storeRo) ? storeRo.left.message : 'stored?!');

const outOfBounds = machine.attempt((m) => m.load(heap, 0x1000, 1));
log('load one byte past the top', E.isLeft(outOfBounds) ? outOfBounds.left.message : 'loaded?!');

// Sealing: an opaque handle that only the holder of the matching otype can open.
const key = E.getOrElseW((): Capability => {
  throw new Error('out of otypes');
})(roots.userTypes.allocate());
const handle = machine.seal(heap, key);
log('sealed handle', handle);
const deref = machine.attempt((m) => m.load(handle, 0, 1));
log('dereference a sealed handle', E.isLeft(deref) ? deref.left.message : 'loaded?!');
log('unseal with the right otype', machine.unseal(handle, key));

// Tags live outside the data: copying the bytes of a capability does not copy authority.
machine.storeCap(heap, 0x100, heap);
machine.store(heap, 0x110, machine.load(heap, 0x100, 16));
log('capability stored at 0x10100', machine.loadCap(heap, 0x100));
log('same 16 bytes copied as data', machine.loadCap(heap, 0x110));
