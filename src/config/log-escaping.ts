import { stdSerializers, type LoggerOptions } from 'pino';

// C0, DEL, C1, and the two Unicode line breaks some viewers honour.
// eslint-disable-next-line no-control-regex -- control characters are what this escapes
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// The part of CONTROL that JSON.stringify writes as it is.
const CONTROL_KEPT_BY_JSON = /[\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const escapeOne = (c: string) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The text with each control character written as an escape, so it can never start a line of its own. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

function escapeKeptByJson(text: string): string {
  return text.replace(CONTROL_KEPT_BY_JSON, escapeOne);
}

type SerializedError = ReturnType<typeof stdSerializers.err>;
type Escape = (text: string) => string;

/**
 * pino options that keep a logged value (a job's args, a URL, an error message) from forging a
 * log line or steering the terminal. The message is escaped in both formats, after pino has filled
 * in its parameters, so it reads the same in either. Other fields: pino-pretty prints them as
 * they are (an error's stack on lines of its own), so for it every control character is escaped;
 * in JSON lines, JSON escapes C0 itself and only DEL, C1 and U+2028/2029 need escaping.
 */
export function logEscapingOptions(pretty: boolean): Pick<LoggerOptions, 'serializers' | 'formatters'> {
  const escapeField = pretty ? escapeControlCharacters : escapeKeptByJson;
  return {
    serializers: {
      // pino passes the final message (also one taken from an error) through the serializer of its key.
      msg: (msg: unknown) => (typeof msg === 'string' ? escapeControlCharacters(msg) : msg),
      // pino-http hands its err serializer errors it has serialized already.
      err: (err: unknown) =>
        escapeError(err instanceof Error ? stdSerializers.err(err) : (err as SerializedError), escapeField),
    },
    formatters: { log: (object) => escapeValues(object, escapeField, 0) as Record<string, unknown> },
  };
}

/** An error's message and stack (whose first line repeats the message), escaped. */
function escapeError(err: SerializedError, escape: Escape): SerializedError {
  if (typeof err !== 'object' || err === null) return err;
  const message = typeof err.message === 'string' ? err.message : '';
  const stack = typeof err.stack === 'string' ? err.stack : '';
  const at = message === '' ? -1 : stack.indexOf(message);
  const escapedStack = at < 0 ? stack : stack.slice(0, at) + escape(message) + stack.slice(at + message.length);
  return { ...err, message: escape(message), stack: escapedStack };
}

/**
 * Strings in plain objects and arrays, a few levels deep; errors are left to their serializer. An
 * object is copied only when something in it changes: most log lines carry only their context.
 */
function escapeValues(value: unknown, escape: Escape, depth: number): unknown {
  if (typeof value === 'string') return escape(value);
  if (depth > 4 || typeof value !== 'object' || value === null || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => escapeValues(item, escape, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  // for...in with hasOwn, not Object.entries: no array per field on every log line.
  const fields = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const item = fields[key];
    const escaped = escapeValues(item, escape, depth + 1);
    if (escaped !== item) (copy ??= { ...fields })[key] = escaped;
  }
  return copy ?? value;
}
