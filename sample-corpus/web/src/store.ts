export interface Result<T, E = Error> {
  ok: boolean;
  value?: T;
  error?: E;
}

export type Listener<S> = (state: S, previous: S) => void;

export class Store<S extends object> {
  private listeners: Array<Listener<S>> = [];

  constructor(private state: S) {}

  get(): Readonly<S> {
    return this.state;
  }

  update(patch: Partial<S>): Result<S> {
    const previous = this.state;
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((l) => l(this.state, previous));
    return { ok: true, value: this.state };
  }

  subscribe(listener: Listener<S>): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}

export function isOk<T, E>(r: Result<T, E>): r is Result<T, E> & { value: T } {
  return r.ok && r.value !== undefined;
}
