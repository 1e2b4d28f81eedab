import { Capability } from './capability.js';
import { CapCause, CapabilityFault, type CapOperand } from './fault.js';

/**
 * Operands must be real capabilities. Anything else — a look-alike object, bytes that
 * resemble a capability — carries no tag, so using it is a tag violation, not a crash.
 */
export function assertCapability(x: unknown, operand: CapOperand): asserts x is Capability {
  if (!Capability.is(x)) {
    throw new CapabilityFault(CapCause.TagViolation, operand, 'operand is not a capability (forged or plain data)');
  }
}
