/**
 * UID rules (PS3.5 9.1): components of digits separated by '.', no empty component, no leading zero
 * in a component of more than one digit, at most 64 characters. Padding (a trailing NUL) is not part
 * of the UID.
 */
export type UidProblem = 'empty' | 'too-long' | 'bad-character' | 'empty-component' | 'leading-zero';

export const MAX_UID_LENGTH = 64;

/** The first problem of a UID, or undefined when it follows the rules. */
export function checkUid(raw: string): UidProblem | undefined {
  const uid = raw.replace(/[\0 ]+$/, '');
  if (uid === '') return 'empty';
  if (!/^[0-9.]+$/.test(uid)) return 'bad-character';
  if (uid.split('.').some((c) => c === '')) return 'empty-component';
  if (uid.split('.').some((c) => c.length > 1 && c.startsWith('0'))) return 'leading-zero';
  if (uid.length > MAX_UID_LENGTH) return 'too-long';
  return undefined;
}
