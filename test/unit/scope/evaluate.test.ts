import { describe, expect, it } from 'vitest';
import { parseDA } from '../../../src/inventory/dates.js';
import { type Plan, parsePlan } from '../../../src/plan/index.js';
import { DEFAULT_RULE_ID, evaluateScope, matchStudy, type ScopeStudy } from '../../../src/scope/index.js';

const BASE = `name: t
version: 1
source: { type: folder, path: /srv/source }
target: { type: folder, path: /srv/target }
`;

function scopeOf(yaml: string): Plan['scope'] {
  const r = parsePlan(BASE + yaml, { file: 'plan.yaml', planDir: '/srv' });
  if (!r.ok) throw new Error(r.error.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r.value.scope;
}

let n = 0;
const study = (s: Partial<ScopeStudy> = {}): ScopeStudy => ({ studyUid: `1.2.3.${++n}`, attrs: null, ...s });
const AS_OF = parseDA('20260315')!;
const decide = (scope: Plan['scope'], s: ScopeStudy, asOf = AS_OF) => evaluateScope(s, scope, asOf);

describe('scope rules', () => {
  const scope = scopeOf(`scope:
  rules:
    - { id: keep-research-consented, action: include, description: ethics board, match: { studyDescription: '*RESEARCH*CONSENT*' } }
    - { id: exclude-research, action: exclude, match: { studyDescription: '*RESEARCH*' } }
    - { id: exclude-test-patients, action: exclude, match: { patientId: ['ZZTEST*', '/^QA\\d+$/'] } }
    - { id: exclude-old-mg, action: exclude, match: { modality: [MG], studyDate: { to: 2009-12-31 } } }
    - { id: exclude-station-7, action: exclude, match: { StationName: 'CT-ROOM-7' } }
`);

  it('lets the first matching rule decide, and records it', () => {
    const consented = decide(scope, study({ studyDescription: 'Research study (consent on file)' }));
    expect(consented).toEqual({
      inScope: true,
      ruleId: 'keep-research-consented',
      source: 'rule',
      description: 'ethics board',
    });
    // Matches both research rules and the test-patient rule: the first decides.
    expect(decide(scope, study({ studyDescription: 'RESEARCH arm B', patientId: 'ZZTEST01' }))).toMatchObject(
      {
        inScope: false,
        ruleId: 'exclude-research',
      },
    );
    expect(decide(scope, study({ patientId: 'zztest9' }))).toMatchObject({ ruleId: 'exclude-test-patients' });
    expect(decide(scope, study({ patientId: 'QA17' }))).toMatchObject({ ruleId: 'exclude-test-patients' });
    // Regexes are as written (anchored here, case-sensitive): these do not match.
    expect(decide(scope, study({ patientId: 'qa17' })).ruleId).toBe(DEFAULT_RULE_ID);
    expect(decide(scope, study({ patientId: 'XQA17' })).ruleId).toBe(DEFAULT_RULE_ID);
  });

  it('ANDs the conditions of a rule: modality and an inclusive date range; an empty or malformed date never matches', () => {
    const mg = (studyDate: string | null, modalitiesInStudy = 'MG\\SR') =>
      decide(scope, study({ studyDate, modalitiesInStudy }));
    expect(mg('20091231').ruleId).toBe('exclude-old-mg');
    expect(mg('20100101').ruleId).toBe(DEFAULT_RULE_ID);
    expect(mg('19990101', 'CT').ruleId).toBe(DEFAULT_RULE_ID);
    expect(mg('19990101', 'ct\\mg').ruleId).toBe('exclude-old-mg');
    expect(mg(null).ruleId).toBe(DEFAULT_RULE_ID);
    expect(mg('***').ruleId).toBe(DEFAULT_RULE_ID);
  });

  it('matches any other attribute by keyword from the inventoried attrs, any value of a multi-valued one', () => {
    expect(decide(scope, study({ attrs: { StationName: 'CT-ROOM-2\\CT-ROOM-7' } })).ruleId).toBe(
      'exclude-station-7',
    );
    expect(decide(scope, study({ attrs: { StationName: 'CT-ROOM-70' } })).ruleId).toBe(DEFAULT_RULE_ID);
    expect(decide(scope, study({ attrs: { StationName: null } })).ruleId).toBe(DEFAULT_RULE_ID);
  });

  it('falls back to scope.default when no rule matches', () => {
    const only = scopeOf(`scope:
  default: exclude
  rules:
    - { id: ct-only, action: include, match: { modality: [CT] } }
`);
    expect(decide(only, study({ modalitiesInStudy: 'CT' }))).toMatchObject({
      inScope: true,
      ruleId: 'ct-only',
    });
    expect(decide(only, study({ modalitiesInStudy: 'MR' }))).toEqual({
      inScope: false,
      ruleId: DEFAULT_RULE_ID,
      source: 'default',
      description: 'scope.default: exclude',
    });
  });

  it('matches person names with globs case-insensitively over the whole value', () => {
    const s = scopeOf(`scope:
  rules:
    - { id: test-names, action: exclude, match: { patientName: 'TEST^*' } }
`).rules[0]!.match;
    expect(matchStudy(s, study({ patientName: 'Test^Phantom' }))).toBe(true);
    expect(matchStudy(s, study({ patientName: 'PreTEST^X' }))).toBe(false);
    expect(matchStudy(s, study({ patientName: 'TEST' }))).toBe(false);
    expect(matchStudy(s, study({ patientName: null }))).toBe(false);
  });
});

describe('retention', () => {
  const scope = scopeOf(`scope:
  retentionAsOf: 2026-03-15
  rules:
    - { id: exclude-qa, action: exclude, match: { patientId: 'QA*' } }
  retention:
    - { id: adults-10y, keepYears: 10 }
    - { id: children-until-25, patientAgeUntil: 25, keepYears: 10 }
    - { id: mammo-15y, keepYears: 15, modality: [MG] }
`);
  // "children-until-25" applies to every study too (no modality/match): it keeps a study until the later
  // of StudyDate+10y and birth+25y, so it decides whenever the birth date gives a later end.

  it('keeps a study until StudyDate + keepYears, through the last day', () => {
    expect(decide(scope, study({ studyDate: '20160315', patientBirthDate: '19600101' })).inScope).toBe(true);
    const gone = decide(scope, study({ studyDate: '20160314', patientBirthDate: '19600101' }));
    expect(gone).toMatchObject({ inScope: false, source: 'retention', keptUntil: '20260314' });
  });

  it('keeps children until their 25th birthday when that is later (whichever is later)', () => {
    const child = study({ studyDate: '20100601', patientBirthDate: '20050101' });
    expect(decide(scope, child)).toMatchObject({ inScope: true, ruleId: DEFAULT_RULE_ID });
    const adult = study({ studyDate: '20100601', patientBirthDate: '19700101' });
    expect(decide(scope, adult)).toMatchObject({
      inScope: false,
      ruleId: 'adults-10y',
      keptUntil: '20200601',
    });
    // The grown-up child: birth + 25y has passed as well.
    const grown = study({ studyDate: '20000601', patientBirthDate: '19950101' });
    expect(decide(scope, grown)).toMatchObject({
      inScope: false,
      ruleId: 'children-until-25',
      keptUntil: '20200101',
    });
  });

  it('applies a modality policy only to studies with that modality, and the longest keeping policy decides', () => {
    const mg = study({ studyDate: '20120101', modalitiesInStudy: 'MG', patientBirthDate: '19600101' });
    expect(decide(scope, mg).inScope).toBe(true); // 15 years: until 2027
    const oldMg = study({ studyDate: '20100101', modalitiesInStudy: 'MG', patientBirthDate: '19600101' });
    expect(decide(scope, oldMg)).toMatchObject({
      inScope: false,
      ruleId: 'mammo-15y',
      keptUntil: '20250101',
    });
  });

  it('keeps a study whose needed date is missing or malformed (the safe side)', () => {
    expect(decide(scope, study({ studyDate: null })).inScope).toBe(true);
    expect(decide(scope, study({ studyDate: '***' })).inScope).toBe(true);
    // children-until-25 cannot end without a birth date: kept although StudyDate + 10y passed.
    expect(decide(scope, study({ studyDate: '19900101', patientBirthDate: null })).inScope).toBe(true);
  });

  it('does not touch studies a rule excluded, and keeps studies no policy applies to', () => {
    expect(decide(scope, study({ patientId: 'QA1', studyDate: '19900101' }))).toMatchObject({
      ruleId: 'exclude-qa',
      source: 'rule',
    });
    const onlyMg = scopeOf(`scope:
  retention:
    - { id: mammo-15y, keepYears: 15, modality: [MG] }
`);
    expect(decide(onlyMg, study({ studyDate: '19900101', modalitiesInStudy: 'CT' })).inScope).toBe(true);
    expect(decide(onlyMg, study({ studyDate: '19900101', modalitiesInStudy: 'MG' })).inScope).toBe(false);
  });

  it('moves 29 February to 1 March in a common year (one day more, never less)', () => {
    const leap = scopeOf(`scope:
  retention:
    - { id: one-year, keepYears: 1 }
`);
    const s = study({ studyDate: '20200229' });
    expect(decide(leap, s, parseDA('20210301')!).inScope).toBe(true);
    expect(decide(leap, s, parseDA('20210302')!).inScope).toBe(false);
  });
});
