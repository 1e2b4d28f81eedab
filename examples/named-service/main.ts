/**
 * named-service: a provider publishes a "forecast" coservice (three worker threads) in the
 * APPLICATION namespace "weather"; two clients join the namespace, discover the service and
 * call it. Every step prints what happened.
 *
 *   node --conditions=comsg:source --import=tsx examples/named-service/main.ts
 */
import * as E from 'fp-ts/lib/Either.js';
import { AddressSpace, bootMicrokernel, cocall, type CoProcessContext, type SysError } from '@comsg/libcoproc';
import { cocreate, codiscover, coprocInit, coselect, provideService } from '@comsg/libcomsg';
import { hooksOf, type ExampleHooks } from '../hooks.js';

const CITIES = ['Cambridge', 'Oslo', 'Lima'];

function describe(e: SysError): string {
  return `${e._tag} (${e.op}: ${e.message})`;
}

export async function runNamedServiceExample(options?: ExampleHooks | ((line: string) => void)): Promise<number> {
  const hooks = hooksOf(options);
  const print = hooks.print ?? console.log;
  const space = AddressSpace.create({ stdout: print });
  hooks.onSpace?.(space);
  const kernel = bootMicrokernel(space);
  const up = await kernel.ready;
  if (E.isLeft(up)) {
    print(`microkernel failed to boot: ${describe(up.left)}`);
    return 1;
  }
  const st = kernel.status();
  print(`microkernel up: nsd pid ${st.nsd.pid}, coserviced pid ${st.coserviced.pid}, coeventd pid ${st.coeventd.pid}`);
  let published = false;
  let failures = 0;

  space.spawn({
    name: 'forecaster',
    main: async (ctx: CoProcessContext) => {
      const k = await coprocInit(ctx);
      if (E.isLeft(k)) return void print(`provider: coproc_init: ${describe(k.left)}`);
      const app = await cocreate(k.right, 'weather', 'APPLICATION', k.right.root);
      if (E.isLeft(app)) return void print(`provider: cocreate: ${describe(app.left)}`);
      print(`provider[${ctx.pid}]: created APPLICATION namespace "weather"`);
      let served = 0;
      const workerOf = new Map<bigint, number>(); // each worker has its own request buffer
      const svc = await provideService(
        ctx,
        k.right,
        (call) => {
          const city = new TextDecoder().decode(ctx.machine.load(call.inbuf, 0, call.length)).replace(/\0+$/, '');
          if (!workerOf.has(call.inbuf.address)) workerOf.set(call.inbuf.address, workerOf.size + 1);
          const text = new TextEncoder().encode(`forecast #${++served} for ${city}: sunny (worker ${workerOf.get(call.inbuf.address)})`);
          ctx.machine.store(call.outbuf, 0, text);
          return text.length;
        },
        { name: 'forecast', ns: app.right.ns, workers: 3, bufferBytes: 256 },
      );
      if (E.isLeft(svc)) return void print(`provider: provideService: ${describe(svc.left)}`);
      print(`provider[${ctx.pid}]: published coservice "forecast" with 3 workers`);
      published = true;
      await svc.right.serve();
    },
  });

  const client = (label: string) => async (ctx: CoProcessContext) => {
    while (!published) await ctx.thread.sleep(1);
    const k = await coprocInit(ctx);
    if (E.isLeft(k)) return failures++, void print(`${label}: coproc_init: ${describe(k.left)}`);
    const app = await cocreate(k.right, 'weather', 'APPLICATION', k.right.root);
    if (E.isLeft(app)) return failures++, void print(`${label}: join: ${describe(app.left)}`);
    print(`${label}[${ctx.pid}]: joined "weather" (${app.right.created ? 'created' : 'existing'} namespace)`);
    const found = await coselect(k.right, 'forecast', 'COSERVICE', app.right.ns);
    if (E.isLeft(found) || found.right.obj === undefined) return failures++, void print(`${label}: coselect: ${E.isLeft(found) ? describe(found.left) : 'no object'}`);
    const buf = E.getOrElseW(() => undefined)(ctx.malloc(256));
    if (buf === undefined) return failures++, void print(`${label}: out of memory`);
    for (const city of CITIES) {
      const worker = await codiscover(k.right, found.right.obj);
      if (E.isLeft(worker)) return failures++, void print(`${label}: codiscover: ${describe(worker.left)}`);
      ctx.machine.store(buf, 0, new TextEncoder().encode(city.padEnd(16, '\0')));
      const n = await cocall(ctx.thread, worker.right.target, buf, 16, buf, 256);
      if (E.isLeft(n)) return failures++, void print(`${label}: cocall: ${describe(n.left)}`);
      print(`${label}[${ctx.pid}]: ${new TextDecoder().decode(ctx.machine.load(buf, 0, n.right))}`);
    }
    // A name that is not there is an error value, not a crash.
    const missing = await coselect(k.right, 'tides', 'COSERVICE', app.right.ns);
    print(`${label}[${ctx.pid}]: coselect "tides" -> ${E.isLeft(missing) ? missing.left._tag : 'found?!'}`);
  };

  space.spawn({ name: 'client-a', main: client('client-a') });
  space.spawn({ name: 'client-b', main: client('client-b') });
  await space.run(); // until both clients are done (the provider's workers are parked)
  await hooks.beforeShutdown?.(space, kernel);
  await space.shutdown();
  print(failures === 0 ? 'named-service: OK' : `named-service: ${failures} failure(s)`);
  return failures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runNamedServiceExample();
}
