/**
 * Text values decoded with the declared Specific Character Set, as a plain string (for matching,
 * identifiers and reports). The decoding itself is charset.ts's; bytes it cannot decode with
 * confidence fall back to Latin-1 so that nothing is lost from view.
 */
import { decodeText as decodeWithCharset } from './charset.js';

export function decodeText(raw: Buffer, charset: string | undefined, isPersonName = false): string {
  return decodeWithCharset(raw, charset, isPersonName).text ?? raw.toString('latin1');
}
