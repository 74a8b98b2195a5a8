/**
 * Transform rules (plan `transform.rules`): for the studies `when` matches (scope's matchStudy on the
 * inventoried study; no `when`: every study), `set` gives elements a value ('' makes one empty) and
 * `replace` rewrites a value:
 *
 * | pattern  | a present value…                 | becomes                                               |
 * | -------- | -------------------------------- | ----------------------------------------------------- |
 * | /regex/  | in which the regex finds a match | the value with that (first) match replaced; $1, $& …  |
 * | glob     | that the glob matches whole      | `with`, literally                                     |
 *
 * An absent element is never replaced (there is no value to rewrite); an empty one is (a pattern
 * such as /^$/ can fill it). Every matching rule applies, in plan order.
 */
import type { Pattern, TransformRule } from '../plan/index.js';
import { matchStudy, type ScopeStudy } from '../scope/match.js';
import { element, valueProblem, type ElementRef } from './elements.js';
import type { TransformLoadError } from './errors.js';

export interface CompiledRule {
  readonly id: string;
  readonly path: string;
  readonly set: readonly { readonly el: ElementRef; readonly value: string }[];
  readonly replace: readonly { readonly el: ElementRef; readonly pattern: Pattern; readonly with: string }[];
  applies(study: ScopeStudy | undefined): boolean;
}

/** The value `replace` makes of a present value, or undefined when the pattern does not match. */
export function replaceValue(value: string, pattern: Pattern, replacement: string): string | undefined {
  if (pattern.kind === 'glob') return pattern.regex.test(value) ? replacement : undefined;
  // A fresh RegExp: flags are i, m, s, u only (no g/y), so no lastIndex state; still, never share one.
  const re = new RegExp(pattern.regex.source, pattern.regex.flags);
  return re.test(value) ? value.replace(re, replacement) : undefined;
}

export function compileRule(
  rule: TransformRule,
  index: number,
): { rule?: CompiledRule; errors: TransformLoadError[] } {
  const path = `transform.rules[${index}]`;
  const errors: TransformLoadError[] = [];
  const el = (field: 'set' | 'replace', keyword: string): ElementRef | undefined => {
    const e = element(keyword);
    if (e.ok) return e.element;
    errors.push({
      kind: 'keyword',
      id: rule.id,
      path: `${path}.${field}.${keyword}`,
      message: `${path}.${field}.${keyword}: ${e.message}`,
    });
    return undefined;
  };
  const set: { el: ElementRef; value: string }[] = [];
  for (const [keyword, value] of Object.entries(rule.set ?? {})) {
    const e = el('set', keyword);
    if (!e) continue;
    const problem = valueProblem(e, value);
    if (problem)
      errors.push({
        kind: 'value',
        id: rule.id,
        path: `${path}.set.${keyword}`,
        message: `${path}.set.${keyword}: the value ${problem}`,
      });
    else set.push({ el: e, value });
  }
  const replace: { el: ElementRef; pattern: Pattern; with: string }[] = [];
  for (const [keyword, r] of Object.entries(rule.replace ?? {})) {
    const e = el('replace', keyword);
    if (e) replace.push({ el: e, pattern: r.pattern, with: r.with });
  }
  if (errors.length > 0) return { errors };
  const when = rule.when;
  return {
    errors,
    rule: {
      id: rule.id,
      path,
      set,
      replace,
      applies: (study) => (when === undefined ? true : study !== undefined && matchStudy(when, study)),
    },
  };
}
