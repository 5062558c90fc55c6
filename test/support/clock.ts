/** A clock tests move by hand: vestibule reads it instead of Date.now (time travel without sleeping). */
export class TestClock {
  #offset = 0;
  readonly now = (): number => Date.now() + this.#offset;
  advance(ms: number): void {
    this.#offset += ms;
  }
}
