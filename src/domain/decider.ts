/** An aggregate as three pure functions; time and identity arrive inside commands. */
export interface Decider<Command, State, Event> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => Event[];
}

/** A rule of the domain refused the command. `kind` picks the HTTP status in one place (the API's error mapper). */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly kind: 'unauthenticated' | 'not_found' | 'forbidden' | 'conflict' | 'invalid' | 'gone',
    message: string,
    readonly code: string = kind,
    /** The input field at fault, as a path into the command's input (`rotations.0.participants.1`). */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const unauthenticated = (message: string, code?: string) => new DomainError('unauthenticated', message, code);
export const notFound = (message: string) => new DomainError('not_found', message);
export const forbidden = (message: string, code?: string) => new DomainError('forbidden', message, code);
export const conflict = (message: string, code?: string) => new DomainError('conflict', message, code);
export const invalid = (message: string, code?: string, field?: string) => new DomainError('invalid', message, code, field);
export const gone = (message: string, code?: string) => new DomainError('gone', message, code);

/** A domain event as deciders see it: a type tag and its data. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

export function fold<State, Event>(decider: Pick<Decider<unknown, State, Event>, 'initialState' | 'evolve'>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState());
}
