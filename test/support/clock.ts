/** A clock tests move by hand, so time-based rules (reservation timeouts) are tested without sleeping. */
export class ManualClock {
  #now: number;
  constructor(start = 1_764_000_000_000) {
    this.#now = start;
  }
  readonly now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}
