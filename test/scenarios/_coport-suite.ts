/**
 * The coport scenario suite, for either runtime: each scenario (in _coport-scenarios.ts) runs
 * as a program beside a freshly booted microkernel — inline on one thread in virtual time, or
 * on threads with the scenario, ipcd and the other daemons each on a worker. The scenario
 * records its checks; every one is asserted here. One test file per runtime, so the inline
 * scenarios' CPU work does not starve the threads kernel (it runs on the test's main thread);
 * threads scenarios run one at a time (a dozen workers each on a two-core machine).
 */
import test, { type ExecutionContext } from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { bootMicrokernel, createAddressSpace, ThreadedAddressSpace, type RuntimeKind } from '@comsg/libcoproc';
import { SCENARIOS, type Scenario, type ScenarioName, type ScenarioReport } from './_coport-scenarios.js';

const program = { module: new URL('./_coport-scenarios.ts', import.meta.url).href, export: 'coportScenario', name: 'scenario' };

async function runScenario(t: ExecutionContext, runtime: RuntimeKind, name: ScenarioName): Promise<void> {
  const lines: string[] = [];
  const space = createAddressSpace({ runtime, stdout: (l) => lines.push(l) });
  try {
    const kernel = bootMicrokernel(space, (SCENARIOS[name] as Scenario).kernel ?? {});
    const up = await kernel.ready;
    if (E.isLeft(up)) throw new Error(`boot: ${up.left.message}\n${lines.join('\n')}`);
    const status = await space.spawn(program, { argv: ['scenario', name] }).exited;
    const report = lines.flatMap((l) => {
      try {
        const r = JSON.parse(l) as ScenarioReport;
        return r.scenario === name ? [r] : [];
      } catch {
        return [];
      }
    })[0];
    if (report === undefined) throw new Error(`the scenario printed no report (${JSON.stringify(status)})\n${lines.join('\n')}`);
    t.is(report.error, undefined, report.error);
    t.like(status, { reason: 'returned', code: 0 });
    t.true(report.checks.length > 0, 'the scenario checked something');
    for (const c of report.checks) t.deepEqual(c.actual, c.expected, c.message);
    // The daemons' tables are consistent afterwards, read from their own workers on threads.
    t.deepEqual(await kernel.checkAsync(), { nsd: [], coserviced: [], coeventd: [], ipcd: [] });
    if (runtime === 'inline') t.deepEqual(await kernel.inspectAsync(), kernel.inspect(), 'inline, the asynchronous view is the direct one');
  } finally {
    await space.shutdown();
    if (space instanceof ThreadedAddressSpace) t.is(space.liveWorkers, 0, 'no worker survives shutdown');
  }
}

/** Register every coport scenario as a test on `runtime`. */
export function coportSuite(runtime: RuntimeKind): void {
  const register = runtime === 'threads' ? test.serial : test;
  for (const name of Object.keys(SCENARIOS) as ScenarioName[]) register(`[${runtime}] ${SCENARIOS[name].title}`, (t) => runScenario(t, runtime, name));
}
