/**
 * Plain objects keyed by names from a rule file. A rule may name a parameter `constructor`,
 * `toString` or `__proto__`: on an ordinary object, reading a missing one finds
 * Object.prototype's member, and assigning `__proto__` replaces the prototype instead of
 * storing a value. These two helpers avoid both.
 */

/** obj[key] when obj has it as its own property, else undefined (never an inherited member). */
export const own = <T>(obj: Readonly<Record<string, T>> | undefined, key: string): T | undefined =>
  obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;

/** An empty object without a prototype: `d['__proto__'] = v` stores v like any other name. */
export const dict = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;
