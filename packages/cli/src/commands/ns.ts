/** comsg ns: the namespace tree nsd holds, with object types and the rights handles carry. */
import type { NsObjectView, NsView } from '@comsg/namespaced';
import { COMMON_OPTIONS, type Command } from '../command.js';
import { Exit, printJson, type Io } from '../io.js';
import { EXAMPLE_NAMES, RUNTIME_OPTION, inspected } from './example-arg.js';

function printTree(io: Io, node: NsView, prefix: string, last: boolean, root: boolean): void {
  const branch = root ? '' : last ? '└─ ' : '├─ ';
  io.out(`${prefix}${branch}${node.name}/  ${node.type}  (creator ${node.rights.creator}, joiner ${node.rights.joiner})`);
  const childPrefix = root ? '' : prefix + (last ? '   ' : '│  ');
  node.members.forEach((m, i) => {
    const isLast = i === node.members.length - 1;
    if (m.kind === 'namespace') printTree(io, m, childPrefix, isLast, false);
    else io.out(`${childPrefix}${isLast ? '└─ ' : '├─ '}${describeObject(m)}`);
  });
}

function describeObject(o: NsObjectView): string {
  const held = o.object === undefined ? 'reserved, empty' : o.object;
  return `${o.name}  ${o.type}  ${held}  (inserter ${o.rights.inserter}; coselect ${o.rights.selectOwner} for the owner, ${o.rights.selectOther} for others)`;
}

export const ns: Command = {
  name: 'ns',
  summary: 'show the namespace tree: namespaces, objects, their types and rights',
  usage: `comsg ns [${EXAMPLE_NAMES}] [--runtime inline|threads] [--json]`,
  help: [
    'Runs the example (default: named-service) and prints nsd\'s namespace tree when its',
    'programs are done, with table use against nsd\'s limits. Rights: namespaces hand out OWN',
    '(creator) or WR (joiner); object handles carry R (fetch), W (fill a reservation), D (delete).',
    '  --runtime R   inline (default) or threads (coport examples): nsd answers from its worker',
    '  --json        {example, namespaces: tree, usage: {namespaces, objects, limits}}',
  ],
  options: { ...COMMON_OPTIONS, ...RUNTIME_OPTION },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const r = await inspected('ns', positionals[0], io, false, values['runtime']);
    if (typeof r === 'number') return r;
    const s = r.spaces.find((x) => x.microkernel?.namespaces !== undefined);
    if (s === undefined || s.microkernel?.namespaces === undefined) {
      io.err(`comsg ns: example ${r.example} does not boot the microkernel (no nsd to ask)`);
      return Exit.UNAVAILABLE;
    }
    const k = s.microkernel;
    if (values['json'] === true) {
      printJson(io, { example: r.example, namespaces: k.namespaces, usage: k.nsd });
      return Exit.OK;
    }
    printTree(io, k.namespaces!, '', true, true);
    if (k.nsd !== undefined) io.out(`\nnsd tables: ${k.nsd.namespaces}/${k.nsd.limits.namespaces} namespaces, ${k.nsd.objects}/${k.nsd.limits.objects} objects`);
    return Exit.OK;
  },
};
