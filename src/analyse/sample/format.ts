/** The sample and the coverage report as text (UIDs, equipment and counts only: no patient data). */
import { sopClassLabel } from '../../dicom/sop-class.js';
import { lookupTransferSyntax } from '../../dicom/transfer-syntax.js';
import type { SampleResult } from './choose.js';
import type { CoverageReport } from './coverage.js';
import type { Combination } from './dimensions.js';

const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

export function describeCombination(c: Combination): string {
  const ts = lookupTransferSyntax(c.transferSyntax)?.name ?? c.transferSyntax;
  return [
    sopClassLabel(c.sopClass),
    c.modality,
    [c.manufacturer, c.model, c.softwareVersions].join(' / '),
    c.year,
    ts,
    c.charset,
  ].join(' | ');
}

export function formatSample(s: SampleResult): string {
  const lines = [
    `${s.combinations.length} combinations in ${s.studies.inScope} in-scope studies (${s.instances.inScope} instances); ` +
      `the pilot covers all of them with ${s.pilot.length} of ${s.studies.inScope} studies (${s.instances.pilot} instances${s.bytes.known ? `, ${mb(s.bytes.pilot)}` : ''})`,
    `headers: ${s.headers.fromPreflight} pre-flight records, ${s.headers.read} series read now${s.headers.unread ? `, ${s.headers.unread} series unreadable (their character set is "(unknown)")` : ''}`,
  ];
  if (s.studies.outOfScope)
    lines.push(
      `${s.studies.outOfScope} studies out of scope; ${s.excludedOnly.length} combinations only they hold`,
    );
  lines.push('pilot studies:');
  for (const p of s.pilot)
    lines.push(`  ${p.studyUid}  ${p.instances} instances  ${p.combinations} combinations`);
  return lines.join('\n');
}

export function formatCoverage(r: CoverageReport): string {
  const b = r.byStatus;
  const lines = [
    `coverage of ${r.rows.length} combinations (pilot of ${r.pilotStudies} studies): ${b.verified} verified, ${b.failed} failed, ${b['migrated-not-verified']} migrated not verified, ${b['not-tried']} not tried`,
  ];
  for (const row of r.rows) {
    const n = row.instances;
    lines.push(
      `  ${row.status.padEnd(21)} ${describeCombination(row.combination)}  [${n.verified} verified, ${n.failed} failed, ${n['migrated-not-verified']} unverified, ${n['not-tried']} not tried]`,
    );
    for (const c of row.causes) lines.push(`      cause: ${c}`);
  }
  return lines.join('\n');
}
