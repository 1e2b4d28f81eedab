/** The coport scenario suite on the threads runtime (inline: coports.test.ts). */
import { coportSuite } from './_coport-suite.js';

coportSuite('threads');
