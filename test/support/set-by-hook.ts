/** A value a before-hook sets: `value` once set, else an error saying it was read outside a hook or test. */
export function setByHook<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`No ${what} yet: read it inside a hook or test`);
  return value;
}
