import { expect } from 'vitest';
import { type Decider, DomainError, fold } from './decider.js';

/** given(events).when(command).then(events) | .thenThrows(kind), as Emmett's DeciderSpecification reads. */
export function deciderSpecification<Command, State, Event>(decider: Decider<Command, State, Event>) {
  return {
    given(events: Event[]) {
      return {
        when(command: Command) {
          const run = () => decider.decide(command, fold(decider, events));
          return {
            then(expected: Event[]) {
              expect(run()).toEqual(expected);
            },
            thenNothingHappens() {
              expect(run()).toEqual([]);
            },
            thenThrows(kind: DomainError['kind'], code?: string) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(DomainError);
              expect((thrown as DomainError).kind).toBe(kind);
              if (code) expect((thrown as DomainError).code).toBe(code);
            },
          };
        },
      };
    },
  };
}
