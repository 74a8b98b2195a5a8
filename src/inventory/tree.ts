/**
 * The queries of an inventory run as a tree: each is recorded in the state database (store.recordQuery,
 * with its parent when it splits a capped one), and each capped answer is checked against its parts.
 *
 * Coverage (the same rule as store.finishInventoryRun): a query is covered when it completed, or when
 * it was split and every part is covered. Splits by a key other than the date cannot be proven to cover
 * their parent (a study whose key is empty is in no part), so the tree keeps the UIDs of every capped
 * answer until its parts have returned them; any left over are a leak: a "residual" row (complete:
 * false, params.residual) is recorded under the capped query, which is then not covered. Such a row
 * is a check, not a C-FIND. The same residual row records a count shortfall (fewer series or
 * instances listed than the source reported, when only splits listed them).
 */
import type { SmallDataset } from '../dicom/small-dataset.js';
import type { Json, QueryLevel, Store } from '../state/index.js';
import type { FindAnswer } from './find-pool.js';

export interface QueryNode {
  readonly id: number;
  readonly level: QueryLevel;
  /** The matching keys sent (a residual or proof row: its own params). */
  readonly params: { readonly [k: string]: Json };
  readonly parent: QueryNode | undefined;
  readonly complete: boolean;
  readonly capped: boolean;
  readonly children: QueryNode[];
  /** Capped: UIDs of its answer that no part has returned yet. */
  readonly pending: Set<string>;
}

export interface TreeStats {
  issued: number;
  complete: number;
  capped: number;
  failed: number;
  residual: number;
  /** Complete queries counted but not recorded one by one (series and image level). */
  unrecorded: number;
}

export class QueryTree {
  readonly stats: TreeStats = { issued: 0, complete: 0, capped: 0, failed: 0, residual: 0, unrecorded: 0 };
  readonly roots: QueryNode[] = [];

  constructor(
    private readonly store: Store,
    private readonly runId: number,
    private readonly uidOf: (level: QueryLevel, m: SmallDataset) => string | undefined,
  ) {}

  /** Records a query and its answer; returns the node (its id is the parent of its parts). */
  async record(
    level: QueryLevel,
    params: { readonly [k: string]: Json },
    answer: FindAnswer,
    parent: QueryNode | undefined,
    issuedAt: number,
  ): Promise<QueryNode> {
    this.stats.issued++;
    if (answer.kind === 'complete') this.stats.complete++;
    else if (answer.kind === 'capped') this.stats.capped++;
    else this.stats.failed++;
    const id = await this.store.recordQuery({
      runId: this.runId,
      parentId: parent?.id ?? null,
      level,
      params,
      issuedAt,
      complete: answer.kind === 'complete',
      status: answer.status,
      resultCount: answer.matches.length,
      error:
        answer.kind === 'capped' ? `capped: ${answer.why}` : answer.kind === 'failed' ? answer.error : null,
    });
    const node: QueryNode = {
      id,
      level,
      params,
      parent,
      complete: answer.kind === 'complete',
      capped: answer.kind === 'capped',
      children: [],
      pending: new Set(),
    };
    if (parent) parent.children.push(node);
    else this.roots.push(node);
    if (node.capped) {
      for (const m of answer.matches) {
        const uid = this.uidOf(level, m);
        if (uid) node.pending.add(uid);
      }
    }
    this.found(
      node,
      answer.matches.map((m) => this.uidOf(level, m)),
    );
    return node;
  }

  /** A complete query that is only counted (series and image levels: one row per series would double the table). */
  countUnrecorded(): void {
    this.stats.issued++;
    this.stats.complete++;
    this.stats.unrecorded++;
  }

  /** The answer of `node` returned these UIDs: its ancestors need not account for them any more. */
  private found(node: QueryNode, uids: readonly (string | undefined)[]): void {
    for (let a = node.parent; a; a = a.parent) {
      if (a.pending.size === 0) continue;
      for (const u of uids) if (u) a.pending.delete(u);
    }
  }

  /**
   * After a capped query's parts have all run: record a residual row when some of its own answer was
   * in no part (or when `shortfall` says the parts listed fewer than the source reported). Returns the
   * number of UIDs that leaked.
   */
  async checkSplit(
    node: QueryNode,
    shortfall?: { reported: number; listed: number; what: string },
  ): Promise<number> {
    const leaked = node.children.length > 0 ? [...node.pending] : [];
    const short = shortfall && shortfall.listed < shortfall.reported ? shortfall : undefined;
    if (leaked.length === 0 && !short) return 0;
    const reasons: string[] = [];
    if (leaked.length > 0)
      reasons.push(
        `${leaked.length} of its own matches were in no part (their split keys are empty or unmatched)`,
      );
    if (short)
      reasons.push(`the parts listed ${short.listed} ${short.what}, the source reported ${short.reported}`);
    await this.residual(node, reasons.join('; '), {
      leaked: leaked.length,
      ...(short ? { reported: short.reported, listed: short.listed } : {}),
    });
    return leaked.length;
  }

  /** Records that part of a capped query is not covered by its parts, for `reason`. */
  async residual(
    node: QueryNode,
    reason: string,
    params: { readonly [k: string]: Json } = {},
  ): Promise<void> {
    this.stats.residual++;
    const id = await this.store.recordQuery({
      runId: this.runId,
      parentId: node.id,
      level: node.level,
      params: { residual: true, ...params },
      complete: false,
      resultCount: 0,
      error: `residual: ${reason}`,
    });
    node.children.push({
      id,
      level: node.level,
      params: { residual: true, ...params },
      parent: node,
      complete: false,
      capped: false,
      children: [],
      pending: new Set(),
    });
  }

  /**
   * Records that `node`, not covered by its own answer or parts, is proven all the same: the source's
   * totals (e.g. every patient's NumberOfPatientRelatedStudies) equal what was found. A check, not a
   * C-FIND: a complete row under it, which makes it covered.
   */
  async proof(node: QueryNode, reason: string, params: { readonly [k: string]: Json }): Promise<void> {
    const id = await this.store.recordQuery({
      runId: this.runId,
      parentId: node.id,
      level: node.level,
      params: { proof: true, ...params },
      complete: true,
      resultCount: 0,
      error: `proof: ${reason}`,
    });
    node.children.push({
      id,
      level: node.level,
      params: { proof: true, ...params },
      parent: node,
      complete: true,
      capped: false,
      children: [],
      pending: new Set(),
    });
  }

  /** Every query of the subtree of `node` that is not covered and has no part below it. */
  static uncoveredLeaves(node: QueryNode, out: QueryNode[] = []): QueryNode[] {
    if (QueryTree.covered(node)) return out;
    if (node.children.length === 0) out.push(node);
    for (const c of node.children) QueryTree.uncoveredLeaves(c, out);
    return out;
  }

  /** Covered: complete, or split into covered parts. */
  static covered(node: QueryNode): boolean {
    return node.complete || (node.children.length > 0 && node.children.every((c) => QueryTree.covered(c)));
  }

  /** Every capped query in the subtree of `node` (post-order: parts before the query they split). */
  static capped(node: QueryNode, out: QueryNode[] = []): QueryNode[] {
    for (const c of node.children) QueryTree.capped(c, out);
    if (node.capped) out.push(node);
    return out;
  }
}
