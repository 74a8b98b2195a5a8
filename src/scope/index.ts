/**
 * Scope: which studies are migrated. Rules decide per study (first match; default; retention), every
 * excluded study carries its rule; in-scope studies get jobs in priority order.
 *
 *   const summary = await applyScope(ctx);   // ctx from openMigration(planPath)
 */
export { applyScope, type ScopeOptions, type ScopeSummary, type RuleRow } from './apply.js';
export {
  evaluateScope,
  retentionEnd,
  DEFAULT_RULE_ID,
  type ScopeVerdict,
  type DecisionSource,
} from './evaluate.js';
export { matchStudy, attributeValues, modalitiesOf, type ScopeStudy } from './match.js';
export {
  applyAppointments,
  readAppointments,
  parseAppointmentDate,
  datePriority,
  upcomingPatients,
  priorityOf,
  APPOINTMENT_PRIORITY,
  type Appointments,
  type AppointmentBumps,
  type AppointmentsError,
} from './priority.js';
export { parseCsv, type CsvTable } from './csv.js';
