/**
 * A work queue run by a fixed number of workers. Tasks may add tasks. "Deep" tasks (the series and
 * images of a study already found) run before "wide" ones (study-level queries that find more
 * studies), which keeps the studies held in memory bounded by roughly workers × the source's cap.
 */
export type Task = () => Promise<void>;

export class TaskQueue {
  private readonly deep: Task[] = [];
  private readonly wide: Task[] = [];
  private running = 0;
  private stopped = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  push(task: Task, deep = false): void {
    if (this.stopped) return;
    (deep ? this.deep : this.wide).push(task);
    this.notify();
  }

  /** Take no new tasks (tasks under way finish). */
  stop(): void {
    this.stopped = true;
    this.deep.length = 0;
    this.wide.length = 0;
    this.notify();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Runs until no task is queued or running. A task that throws stops the queue and is rethrown. */
  async run(workers: number): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        const t = this.deep.shift() ?? this.wide.shift();
        if (!t) {
          if (this.running === 0 || this.stopped) {
            this.notify();
            return;
          }
          await new Promise<void>((r) => {
            const prev = this.wake;
            this.wake = () => {
              prev?.();
              r();
            };
          });
          continue;
        }
        this.running++;
        try {
          await t();
        } catch (e) {
          this.failure ??= e;
          this.stop();
        } finally {
          this.running--;
          this.notify();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
    if (this.failure !== undefined) throw this.failure;
  }
}
