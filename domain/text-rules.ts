/**
 * Rules for text fields that the OpenAPI document states as regular expressions. Their character
 * classes are spelled out rather than written `\s`, which JavaScript and Python (Schemathesis,
 * generated SDKs) read differently: JavaScript's white space and line terminators, what
 * `String.prototype.trim` removes.
 */
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/** Text that says something: a character other than white space is left after trimming. */
export const NOT_BLANK = new RegExp(`[^${WHITE_SPACE}]`);
export const BLANK_MESSAGE = 'must not be blank';

/** `new, acknowledged`: one or more of `values`, separated by commas, white space around each allowed. */
export function commaSeparatedPattern(values: readonly string[]): RegExp {
  const value = `[${WHITE_SPACE}]*(?:${values.join('|')})[${WHITE_SPACE}]*`;
  return new RegExp(`^${value}(?:,${value})*$`);
}
