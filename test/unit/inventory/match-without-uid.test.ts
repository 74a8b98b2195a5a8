/**
 * A study-level C-FIND answer without StudyInstanceUID cannot be listed (nothing can be retrieved by
 * it), but must not vanish silently: it is counted, kept as a finding with the query and the answer's
 * index in it (no patient data), and the run is not complete. The source is a small SCP of our own
 * whose study-level answer holds such a match between two good ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSmallDataset, encodingOf, type SmallDataset } from '../../../src/dicom/small-dataset.js';
import { formatSummary } from '../../../src/cli/commands/inventory.js';
import { runInventory } from '../../../src/inventory/index.js';
import type { AssociationServer } from '../../../src/net/association/server.js';
import { CommandField, DATASET_PRESENT } from '../../../src/net/dimse/command.js';
import { buildIdentifier, QUERY_RETRIEVE_LEVEL } from '../../../src/net/services/identifier.js';
import { respond, startScp } from '../../../src/net/services/scp.js';
import { identifierOf } from '../../../src/archive/find-scp.js';
import { dimseSource, migration, type TestMigration } from './fixtures.js';

const STUDY = (uid: string | undefined, name: string, id: string): SmallDataset => {
  const keys: Record<string, string> = { PatientName: name, PatientID: id, StudyDate: '20200101' };
  if (uid) keys.StudyInstanceUID = uid;
  const ds = buildIdentifier('STUDY', keys);
  ds.delete(QUERY_RETRIEVE_LEVEL);
  return ds;
};

const ANSWER = [
  STUDY('1.2.826.0.1.3680043.8.498.1', 'GOOD^ONE', 'PID-GOOD-1'),
  STUDY(undefined, 'HIDDEN^PERSON', 'PID-SECRET-42'),
  STUDY('1.2.826.0.1.3680043.8.498.2', 'GOOD^TWO', 'PID-GOOD-2'),
];

describe('inventory: a study-level answer without StudyInstanceUID', () => {
  let server: AssociationServer;
  let m: TestMigration;
  beforeAll(async () => {
    server = await startScp({
      aeTitle: 'NOUID',
      port: 0,
      host: '127.0.0.1',
      policy: { transferSyntaxesFor: () => 'any' },
      handlers: {
        onOtherRequest: async (msg, ch) => {
          if (msg.command.CommandField !== CommandField.C_FIND_RQ) return false;
          const id = identifierOf(msg);
          const level = id?.get(QUERY_RETRIEVE_LEVEL)?.value;
          // Studies at STUDY level; no series below them (the count checks are not what this tests).
          for (const ds of level === 'STUDY' ? ANSWER : []) {
            await ch.send(
              msg.contextId,
              {
                CommandField: CommandField.C_FIND_RSP,
                MessageIDBeingRespondedTo: msg.command.MessageID,
                AffectedSOPClassUID: msg.command.AffectedSOPClassUID,
                CommandDataSetType: DATASET_PRESENT,
                Status: 0xff00,
              },
              encodeSmallDataset(ds, encodingOf(msg.context.transferSyntax)),
            );
          }
          await respond(ch, msg, CommandField.C_FIND_RSP, 0x0000);
          return true;
        },
      },
    });
    m = await migration(dimseSource(server.port, 'NOUID'));
  });
  afterAll(async () => {
    await m?.stop();
    await server?.close();
  });

  it('is counted, kept as a finding with its answer index, and the run is not complete', async () => {
    const logs: string[] = [];
    const summary = await runInventory(m.ctx, {
      onProgress: (p) => logs.push(JSON.stringify(p)),
    });
    expect(summary.studies).toBe(2);
    expect(summary.findings['inventory.match-without-uid']).toBe(1);
    expect(summary.complete).toBe(false);
    const events = await m.ctx.store.listEvents({ kind: 'inventory.match-without-uid' });
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ level: 'STUDY', answerIndex: 1, answers: 3 });
    expect(typeof (events[0]!.detail as Record<string, unknown>).queryId).toBe('number');
    // The query that had it is recorded as not covered, with the reason.
    const queries = await m.ctx.store.listQueries(summary.runId);
    expect(queries.filter((q) => !q.complete).map((q) => q.error)).toEqual([
      expect.stringContaining('without StudyInstanceUID'),
    ]);
    const text = formatSummary(summary, 'NOUID').join('\n');
    expect(text).toContain('INCOMPLETE: 1 answer(s) without a UID, not listed');
    expect(text).toContain('match-without-uid 1');
    // No patient data of that answer (nor of the others) in what was recorded or logged.
    const recorded = JSON.stringify({ events, queries, logs, summary, text });
    for (const phi of ['HIDDEN', 'PID-SECRET-42', 'GOOD^ONE', 'PID-GOOD-1'])
      expect(recorded).not.toContain(phi);
  });
});
