/**
 * A Python process through our agent (agents/python, docs/PROTOCOL.md): tracemalloc for what is
 * retained, the `Taskmem` domain for statistics, task events, the harness and its profile.
 */
import type { RunTaskResult } from '../../cdp/extraProtocol';
import { mallocTrimNote } from '../../core/memorySplit';
import type { HeapStatsPoint, RawSamplingProfile } from '../../core/model';
import type { HarnessSpec } from '../../session/api';
import type { AdapterContext, CaptureResult, RetainedReading, RuntimeAdapter, StatsReading } from '../adapter';
import type { WhyRetained } from '../../core/why/model';
import { parseWhyRetained } from '../../core/why/validate';
import { parsePythonStats, pythonStatsPoint, type MallocTrimFigures, type PythonStatsReading } from './stats';

/** The agent's referrer walk runs at most this long (it visits at most its own default of objects, 2 million). */
const WHY_TIME_BUDGET_MS = 10_000;

export class PythonAdapter implements RuntimeAdapter {
  private lastMallocTrim: MallocTrimFigures | undefined;
  private lastTaskSources: readonly string[] = [];

  constructor(private readonly context: AdapterContext) {}

  get taskSources(): readonly string[] {
    return this.lastTaskSources;
  }

  async initialize(): Promise<void> {
    const { client, sink, options } = this.context;
    await client.send('Runtime.enable');
    client.on('Taskmem.taskStarted', (event) => sink.taskStarted(event));
    client.on('Taskmem.taskFinished', (event) => sink.taskFinished(event));
    client.on('Taskmem.taskCounts', (event) => sink.taskCounts(event.counts));
    client.on('Taskmem.checkpoint', (event) => sink.checkpoint(event));
    client.on('Taskmem.gc', (event) => sink.gc(event));
    client.on('Taskmem.taskSource', (event) => sink.taskSource(event.source));
    const configure: { sampleEvery?: number; mallocTrim?: boolean } = {};
    if (options.pythonMallocTrim) configure.mallocTrim = true;
    if (options.pythonSampleEvery !== undefined) configure.sampleEvery = options.pythonSampleEvery;
    await client.send('Taskmem.configure', configure);
    await client.send('HeapProfiler.enable');
    await client.send('HeapProfiler.startSampling', { samplingInterval: options.samplingIntervalBytes });
    await client.send('Runtime.runIfWaitingForDebugger');
  }

  private async readAgentStats(): Promise<PythonStatsReading> {
    const stats = parsePythonStats(await this.context.client.send('Taskmem.getStats'));
    this.lastMallocTrim = stats.mallocTrim;
    if (stats.taskSources) this.lastTaskSources = stats.taskSources;
    return stats;
  }

  async readStats(): Promise<StatsReading> {
    return pythonStatsPoint(await this.readAgentStats());
  }

  /** The agent reads its own RSS: no reading beside the protocol. */
  quickRss(): number | undefined {
    return undefined;
  }

  async collectGarbage(): Promise<void> {
    await this.context.client.send('HeapProfiler.collectGarbage');
  }

  async capture(collect: boolean): Promise<CaptureResult> {
    const retained = await this.retainedAfter(collect);
    const result = await this.context.client.send('Taskmem.getSamplingProfile');
    return { profile: result.profile, ...retained, sampledTasks: result.sampledTasks, totalTasks: result.totalTasks };
  }

  retained(): Promise<RetainedReading> {
    return this.retainedAfter(true);
  }

  /** Traced memory after gc.collect(); 0 while nothing is traced. */
  private async retainedAfter(collect: boolean): Promise<RetainedReading> {
    if (collect) await this.collectGarbage();
    return { retainedAfterGc: (await this.readAgentStats()).tracedBytes ?? 0 };
  }

  /** Tracing starts with the measured runs: what it traced and is still alive is what they kept. */
  whyBaseline(): Promise<void> {
    return Promise.resolve();
  }

  async whyRetained(runs: number): Promise<WhyRetained> {
    const started = performance.now();
    const answer = parseWhyRetained(await this.context.client.sendRaw('Taskmem.whyRetained', { runs, timeBudgetMs: WHY_TIME_BUDGET_MS }));
    return { ...answer, pauseMs: answer.pauseMs || performance.now() - started };
  }

  async profile(): Promise<RawSamplingProfile> {
    return (await this.context.client.send('Taskmem.getSamplingProfile')).profile;
  }

  async loadHarness(spec: HarnessSpec): Promise<void> {
    const { client } = this.context;
    await client.send('Taskmem.configure', { sampleEvery: 1 });
    await client.send('Taskmem.loadHarness', { file: spec.file, exportName: spec.exportName, args: spec.args });
  }

  runHarnessTask(index: number, measure: boolean): Promise<RunTaskResult> {
    return this.context.client.send('Taskmem.runTask', { index, measure });
  }

  /** Tracing starts with the first measured run: nothing to switch off. */
  endWarmUp(): Promise<void> {
    return Promise.resolve();
  }

  async exitHarness(): Promise<void> {
    await this.context.client.send('Taskmem.exit');
  }

  /** Nothing is held in the session's process. */
  dispose(): void {
    // The agent's walk runs in the target.
  }

  /** The agent injects nothing that must come out; it stops tracing when its client leaves. */
  letGo(): Promise<void> {
    return Promise.resolve();
  }

  /** With --malloc-trim: the allocator high water that malloc_trim(0) returned. */
  memoryNote(title: string, _points: readonly HeapStatsPoint[]): string | undefined {
    return this.lastMallocTrim ? mallocTrimNote(title, this.lastMallocTrim) : undefined;
  }
}
