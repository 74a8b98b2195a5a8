/** UIDs breaking the rules (inventory and every UI value of the copies read) and character set problems by series. */
import type { Evidence } from '../evidence.js';
import { finding, type Finding } from './context.js';
import type { FindingCode } from '../codes.js';

export function checkUids(ev: Evidence): Finding[] {
  const seen = new Map<string, Finding>();
  for (const u of ev.uidProblems) {
    const key = `${u.keyword}|${u.uid}|${u.nested ? u.sopInstanceUid : ''}`;
    if (seen.has(key)) continue;
    const code: FindingCode = u.problem === 'too-long' ? 'UID_TOO_LONG' : 'UID_INVALID';
    seen.set(
      key,
      finding(
        code,
        u.uid,
        u.studyUid ? [u.studyUid] : [],
        { keyword: u.keyword, problem: u.problem, length: u.uid.length, nested: u.nested },
        {
          seriesUid: u.seriesUid,
          sopInstanceUid: u.sopInstanceUid,
        },
      ),
    );
  }
  return [...seen.values()];
}

const CHARSET_CODES: Record<string, FindingCode> = {
  missing: 'CHARSET_MISSING',
  undecodable: 'CHARSET_UNDECODABLE',
  misspelt: 'CHARSET_MISSPELT',
  unknown: 'CHARSET_UNKNOWN',
};

export function checkCharsets(ev: Evidence): Finding[] {
  const out: Finding[] = [];
  for (const [seriesUid, c] of ev.charsetBySeries)
    for (const [issue, what] of c.issues) {
      const code = CHARSET_CODES[issue];
      if (!code) continue;
      const terms = issue === 'misspelt' || issue === 'unknown';
      out.push(
        finding(
          code,
          seriesUid,
          c.studyUid ? [c.studyUid] : [],
          { instances: c.instances.size, [terms ? 'terms' : 'keywords']: [...what].sort() },
          { seriesUid },
        ),
      );
    }
  return out;
}
