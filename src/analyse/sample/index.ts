/**
 * The longitudinal sample: the smallest set of studies covering every combination of SOP class,
 * modality, equipment (manufacturer, model, software versions), year, transfer syntax and character
 * set in the source; its migration as a pilot; and the coverage report after it.
 *
 *   const s = await chooseSample(ctx);              // ctx from openMigration(planPath)
 *   await writePilotFile('pilot.txt', s); await recordPilot(ctx, s);
 *   await runPilot(ctx, s.pilot.map((p) => p.studyUid));
 *   const cov = await coverageReport(ctx);
 */
export {
  chooseSample,
  type SampleResult,
  type SampleOptions,
  type CombinationRow,
  type PilotStudy,
} from './choose.js';
export { greedyCover, type CoverCandidate, type CoverResult } from './cover.js';
export {
  DIMENSIONS,
  DIMENSION_IDS,
  NONE,
  UNKNOWN,
  combinationKey,
  combinationOfKey,
  normalise,
  yearOf,
  type Combination,
  type DimensionId,
} from './dimensions.js';
export { gatherHeaders, combinationOf, readFacts, type HeaderFacts } from './facts.js';
export {
  runPilot,
  writePilotFile,
  parsePilotList,
  recordPilot,
  lastPilot,
  PilotRefused,
  SAMPLE_PILOT_EVENT,
  PILOT_PRIORITY,
  type PilotRun,
} from './pilot.js';
export {
  coverageReport,
  COVERAGE_STATUSES,
  type CoverageReport,
  type CoverageRow,
  type CoverageStatus,
} from './coverage.js';
export { formatSample, formatCoverage } from './format.js';
