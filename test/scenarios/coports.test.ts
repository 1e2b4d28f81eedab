/** The coport scenario suite on the inline runtime (threads: coports.threads.test.ts). */
import { coportSuite } from './_coport-suite.js';

coportSuite('inline');
