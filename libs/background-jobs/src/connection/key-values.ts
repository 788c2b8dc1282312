/** `Key=Value;Key2="quoted;value"` with keys lower-cased, as ADO.NET reads them. */
export function parseKeyValues(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const pattern = /\s*([^=;]+?)\s*=\s*("((?:[^"]|"")*)"|'((?:[^']|'')*)'|[^;]*)\s*(?:;|$)/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null && match[0] !== '') {
    const raw =
      match[3] !== undefined
        ? match[3].replace(/""/g, '"')
        : match[4] !== undefined
          ? match[4].replace(/''/g, "'")
          : match[2].trim();
    result[match[1].toLowerCase()] = raw;
  }
  return result;
}

/** The text without passwords, for error messages and logs. */
export function redact(text: string): string {
  return text.replace(/(password|pwd)\s*=\s*[^;]*/gi, '$1=***').replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
