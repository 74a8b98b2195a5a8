/**
 * transform: rules that change named elements only — patient correction tables (CSV from the master
 * patient index) and element rules from the plan — turned into the element changes planned for each
 * instance. The byte rewriter applies them (rewrite*), the engine records them (apply*, audit*).
 *
 *   const t = await loadTransformer(plan.transform);           // Result: all load problems at once
 *   if (t.ok && t.value.active) t.value.plan(header, study);     // header: t.value.readKeywords
 */
export {
  loadTransformer,
  PlanTransformer,
  type ChangeSource,
  type HeaderValues,
  type PlannedChange,
  type Trace,
  type Transformer,
} from './transformer.js';
export type { TransformLoadError, TransformLoadErrorKind } from './errors.js';
export type { CorrectionRow, LoadedCorrectionTable, ColumnRef } from './corrections.js';
export {
  parseCsv,
  decodeCsv,
  type CsvTable,
  type CsvRecord,
  type CsvProblem,
  type CsvEncoding,
} from './csv.js';
export { replaceValue, type CompiledRule } from './rules.js';
export { element, matchForm, valueForm, type ElementRef } from './elements.js';
