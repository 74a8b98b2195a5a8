import { randomBytes } from 'node:crypto';
import type { OpContext } from './context.js';

/**
 * The migration's secret for pseudonyms in analysis findings (pid#…): made once, kept in the state
 * database, so a group keeps its pseudonym across runs and cannot be reversed by hashing guessed IDs.
 */
export async function analysisSecret(ctx: OpContext): Promise<string> {
  return ctx.db.transaction(async (tx) => {
    await tx.run(
      'INSERT INTO analysis_key (id, secret, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING',
      [randomBytes(32).toString('hex'), ctx.clock.now()],
    );
    const r = await tx.get<{ secret: unknown }>('SELECT secret FROM analysis_key WHERE id = 1');
    return String(r!.secret);
  });
}
