/**
 * The fields of `fields` as tests read them once the before-hooks have set them: reading one
 * still unset (outside a hook or test, or a field the suite does not have) throws, saying which.
 */
export function setByHooks<T extends object>(fields: Partial<T>): Readonly<T> {
  return new Proxy(fields, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (value === undefined) throw new Error(`No ${String(key)} yet: read it inside a hook or test`);
      return value;
    },
  }) as Readonly<T>;
}
