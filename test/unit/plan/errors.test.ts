import { describe, expect, it } from 'vitest';
import { formatPlanError, formatPlanErrors } from '../../../src/plan/index.js';
import { MINIMAL, mustFail } from './helpers.js';

/** MINIMAL with `from` replaced by `to` (the replacement must happen). */
function edit(from: string | RegExp, to: string, base = MINIMAL): string {
  const out = base.replace(from, to);
  if (out === base) throw new Error(`edit did not apply: ${String(from)}`);
  return out;
}
const srcLine = (extra: string) => edit('  calledAe: OLDPACS\n', `  calledAe: OLDPACS\n${extra}`);

/** The single error a plan produces, formatted. */
function only(text: string): string {
  const errors = mustFail(text);
  expect(errors, formatPlanErrors(errors)).toHaveLength(1);
  return formatPlanError(errors[0]!);
}

describe('malformed plans name the path and the fix', () => {
  const cases: Array<[string, string, string]> = [
    [
      'port out of range',
      edit('  port: 104\n  calledAe: OLDPACS', '  port: 70000\n  calledAe: OLDPACS'),
      'plan.yaml:6:9: source.port: must be an integer 1–65535 (e.g. 104)',
    ],
    [
      'port missing',
      edit('  port: 104\n  calledAe: OLDPACS', '  calledAe: OLDPACS'),
      'plan.yaml:4:3: source.port: is required; it must be an integer 1–65535 (e.g. 104)',
    ],
    [
      'unknown source type',
      edit('type: dimse', 'type: dicomweb'),
      'plan.yaml:4:9: source.type: must be one of dimse, folder (e.g. dimse)',
    ],
    [
      'misspelt option',
      edit('  port: 104\n  calledAe: OLDPACS', '  prot: 104\n  port: 104\n  calledAe: OLDPACS'),
      'plan.yaml:6:3: source.prot: is not an option here: did you mean port? (options: type, host, port, calledAe, callingAe, queryModel, maxAssociations, timeouts, tls, retrieve, moveDestination, findLimit)',
    ],
    [
      'AE title too long',
      `${MINIMAL}local:\n  aeTitle: MIGRATION_SERVER_01\n`,
      'plan.yaml:14:12: local.aeTitle: must be an AE title: 1–16 characters, letters, digits, spaces and punctuation except backslash (e.g. PACSHIFT)',
    ],
    [
      'wrong version',
      edit('version: 1', 'version: 2'),
      'plan.yaml:2:10: version: must be 1 (the plan format this pacshift reads)',
    ],
    [
      'duration without unit',
      srcLine('  timeouts:\n    connect: 30\n'),
      'plan.yaml:9:14: source.timeouts.connect: must be a duration with a unit, such as "30s", "5m", "2h" or "1h30m" (units ms, s, m, h, d, w), at least 100ms (e.g. 10s)',
    ],
    [
      'ambiguous size unit',
      `${MINIMAL}spool:\n  maxBytes: 20G\n`,
      'plan.yaml:14:13: spool.maxBytes: must be a size such as "512MiB" or "20GiB" (units B, kB, KiB, MB, MiB, GB, GiB, TB, TiB) or a number of bytes, at least 1048576 bytes (e.g. 20GiB)',
    ],
    [
      'time of day out of range',
      `${MINIMAL}transfer:\n  windows:\n    - { days: weekdays, from: "25:00", to: "07:00" }\n`,
      'plan.yaml:15:31: transfer.windows[0].from: must be a local time HH:MM between 00:00 and 24:00 (e.g. 07:00)',
    ],
    [
      'concurrency above the source limit',
      `${MINIMAL}transfer:\n  concurrency:\n    retrieve: 8\n`,
      'plan.yaml:15:15: transfer.concurrency.retrieve: must be at most source.maxAssociations (2): raise source.maxAssociations if the archive allows more associations, e.g. retrieve: 2',
    ],
    [
      'unknown scope action',
      `${MINIMAL}scope:\n  rules:\n    - { id: a, action: drop, match: { modality: SR } }\n`,
      'plan.yaml:15:24: scope.rules[0].action: must be one of include, exclude (e.g. exclude)',
    ],
    [
      'duplicate rule id',
      `${MINIMAL}scope:\n  rules:\n    - { id: a, action: exclude, match: { modality: SR } }\n    - { id: a, action: exclude, match: { modality: PR } }\n`,
      'plan.yaml:16:13: scope.rules[1].id: is a duplicate id (also used at scope.rules[0].id): rule and retention ids must be unique',
    ],
    [
      'sample percent above 100',
      `${MINIMAL}verify:\n  sample:\n    percent: 150\n`,
      'plan.yaml:15:14: verify.sample.percent: must be a number 0–100 (e.g. 5)',
    ],
    [
      'two state databases',
      `${MINIMAL}state:\n  sqlite: a.sqlite\n  postgres: postgres://db/x\n`,
      'plan.yaml:14:3: state: give either sqlite or postgres, not both',
    ],
    [
      'name missing',
      edit('name: test-migration\n', ''),
      'plan.yaml:1:1: name: is required; it must be an identifier of 1–64 letters, digits, ".", "-" or "_", starting with a letter or digit (e.g. oldpacs-to-newpacs)',
    ],
    [
      'date range reversed',
      `${MINIMAL}scope:\n  rules:\n    - id: old\n      action: exclude\n      match: { studyDate: { from: 2015-01-01, to: 2010-01-01 } }\n`,
      'plan.yaml:17:27: scope.rules[0].match.studyDate: from must not be after to, e.g. { from: 2010-01-01, to: 2015-12-31 }',
    ],
    [
      'moveDestination with c-get',
      srcLine('  retrieve: c-get\n  moveDestination: PACSHIFT\n'),
      'plan.yaml:9:20: source.moveDestination: is only used with retrieve: c-move: remove it, or set retrieve: c-move',
    ],
    [
      'rule changing a UID',
      `${MINIMAL}transform:\n  rules:\n    - id: r\n      set: { StudyInstanceUID: "1.2.3" }\n`,
      'plan.yaml:16:14: transform.rules[0].set.StudyInstanceUID: is a UID: rules never change UIDs (references from GSPS, KOS, SR and SEG objects would break); remove it',
    ],
    [
      'misspelt match key',
      `${MINIMAL}scope:\n  rules:\n    - id: t\n      action: exclude\n      match: { patientID: "ZZ*" }\n`,
      'plan.yaml:17:16: scope.rules[0].match.patientID: is not a match option or a DICOM keyword: did you mean patientId? (options: studyDate, modality, patientId, patientName, studyDescription, institutionName, accessionNumber; other attributes by keyword, e.g. StationName)',
    ],
    [
      're-verification too often',
      `${MINIMAL}verify:\n  rerunEvery: 10m\n`,
      'plan.yaml:14:15: verify.rerunEvery: must be a duration with a unit, such as "30s", "5m", "2h" or "1h30m" (units ms, s, m, h, d, w), at least 1h, or off (e.g. 7d)',
    ],
    [
      'window paused and throttled',
      `${MINIMAL}transfer:\n  windows:\n    - { days: [mon], from: "08:00", to: "17:00", paused: true, concurrency: { store: 1 } }\n`,
      'plan.yaml:15:7: transfer.windows[0]: is paused, so concurrency has no effect: remove one of them',
    ],
    [
      'same archive twice',
      edit('pacs-new.hospital.local', 'pacs-old.hospital.local').replace('NEWPACS', 'OLDPACS'),
      'plan.yaml:9:3: target: is the same archive as source (host, port and calledAe): check the target address',
    ],
    [
      'empty allow list with C-MOVE',
      `${MINIMAL}local:\n  allow: []\n`,
      "plan.yaml:14:10: local.allow: is empty, so the source's C-MOVE sub-operations would be refused: list the source's AE title (e.g. [OLDPACS]) or remove allow to use the default",
    ],
    [
      'plan is a list',
      '- a\n- b\n',
      'plan.yaml:1:1: must be a YAML mapping of sections (name, version, source, target, …): start from pacshift init',
    ],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    expect(only(text)).toBe(expected);
  });

  it('reports every problem at once, in file order', () => {
    const errors = mustFail(
      edit('  port: 104\n  calledAe: OLDPACS', '  port: 0\n  calledAe: OLDPACS').replace(
        'calledAe: NEWPACS',
        'calledAe: ""',
      ),
    );
    expect(errors.map((e) => e.path)).toEqual(['source.port', 'target.calledAe']);
  });

  it('says which section is missing', () => {
    const errors = mustFail('name: x\nversion: 1\n');
    expect(errors.map(formatPlanError)).toEqual([
      'plan.yaml:1:1: source: is required; it must be a mapping with type: dimse or folder (e.g. { type: dimse, host: pacs-old.hospital.local, port: 104, calledAe: OLDPACS })',
      'plan.yaml:1:1: target: is required; it must be a mapping with type: dimse or folder (e.g. { type: dimse, host: pacs-new.hospital.local, port: 104, calledAe: NEWPACS })',
    ]);
  });
});

describe('YAML syntax errors', () => {
  it('give line and column', () => {
    const e = only(edit('  port: 104\n  calledAe: OLDPACS', '  port: 104\n calledAe: OLDPACS'));
    expect(e).toMatch(/^plan\.yaml:\d+:\d+: YAML syntax: /);
  });

  it('explain an unquoted pattern starting with *', () => {
    const e = only(
      `${MINIMAL}scope:\n  rules:\n    - id: r\n      action: exclude\n      match:\n        studyDescription: *RESEARCH*\n`,
    );
    expect(e).toBe(
      'plan.yaml:18:27: YAML syntax: a value starting with * is read as a YAML alias: put patterns in quotes, e.g. studyDescription: "*RESEARCH*"',
    );
  });

  it('flag an option given twice', () => {
    expect(
      only(edit('  port: 104\n  calledAe: OLDPACS', '  port: 104\n  port: 105\n  calledAe: OLDPACS')),
    ).toBe('plan.yaml:7:3: YAML syntax: this option is given twice in the same section: keep one');
  });

  it('flag tabs', () => {
    expect(only(edit('  port: 104\n  calledAe: OLDPACS', '\tport: 104\n  calledAe: OLDPACS'))).toMatch(
      /^plan\.yaml:6:1: YAML syntax: /,
    );
  });
});

describe('patient data is never echoed', () => {
  const SECRET_NAME = 'DOE^JOHNATHAN';
  const withRule = (match: string) =>
    `${MINIMAL}scope:\n  rules:\n    - id: r\n      action: exclude\n      match:\n${match}`;

  it('an invalid regex in a patientName pattern', () => {
    const errors = mustFail(withRule(`        patientName: "/${SECRET_NAME}(/i"\n`));
    const text = formatPlanErrors(errors);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('scope.rules[0].match.patientName');
    expect(text).toMatch(/is not a valid regular expression.*: check brackets and escapes/);
    expect(text).not.toContain('DOE');
    expect(text).not.toContain('JOHNATHAN');
  });

  it('an invalid regex inside a list of patterns', () => {
    const errors = mustFail(withRule(`        patientId: ["ZZ*", "/${SECRET_NAME}[/"]\n`));
    expect(errors.map((e) => e.path)).toEqual(['scope.rules[0].match.patientId[1]']);
    expect(formatPlanErrors(errors)).not.toContain('JOHNATHAN');
  });

  it('stateful regex flags', () => {
    const errors = mustFail(withRule(`        patientName: "/${SECRET_NAME}/g"\n`));
    expect(formatPlanErrors(errors)).toContain('use only i, m, s, u');
    expect(formatPlanErrors(errors)).not.toContain('JOHNATHAN');
  });

  it('an unquoted numeric patient ID (leading zeros lost)', () => {
    const errors = mustFail(withRule('        patientId: 0012345\n'));
    expect(formatPlanErrors(errors)).toBe(
      'plan.yaml:18:20: scope.rules[0].match.patientId: must be written in quotes: YAML reads unquoted digits as a number and drops leading zeros (e.g. "000123*")',
    );
  });

  it('a pattern of the wrong type', () => {
    const errors = mustFail(withRule(`        patientName: { name: "${SECRET_NAME}" }\n`));
    expect(errors[0]!.path).toBe('scope.rules[0].match.patientName');
    expect(formatPlanErrors(errors)).not.toContain('JOHNATHAN');
  });

  it('a transform value', () => {
    const errors = mustFail(
      `${MINIMAL}transform:\n  rules:\n    - id: r\n      set: { PatientID: 0012345 }\n`,
    );
    expect(errors[0]!.path).toBe('transform.rules[0].set.PatientID');
    expect(formatPlanErrors(errors)).not.toContain('12345');
  });

  it('a YAML syntax error on a line holding a patient name', () => {
    const text = formatPlanErrors(mustFail(withRule(`        patientName: "${SECRET_NAME}\n`)));
    expect(text).toMatch(/^plan\.yaml:\d+:\d+: YAML syntax: /);
    expect(text).not.toContain('JOHNATHAN');
  });

  it('a postgres password', () => {
    const text = formatPlanErrors(
      mustFail(`${MINIMAL}state:\n  postgres: postgres://pacshift:S3cretPw@db/x\n`),
    );
    expect(text).toContain('state.postgres: must not contain a password');
    expect(text).not.toContain('S3cretPw');
  });

  it('a match key that is not a name', () => {
    const errors = mustFail(withRule(`        "${SECRET_NAME}": "x"\n`));
    const text = formatPlanErrors(errors);
    expect(errors[0]!.path).toBe('scope.rules[0].match[…]');
    expect(text).not.toContain('JOHNATHAN');
  });
});
