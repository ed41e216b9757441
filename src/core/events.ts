/** A minimal typed event, shaped like `vscode.Event` so views can subscribe without adapters. */
export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (value: T) => void) => Disposable;

export class Emitter<T> {
  private listeners = new Set<(value: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        // A failing view must not break the session that feeds every view.
        console.error('taskmem: an event listener failed:', error);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
