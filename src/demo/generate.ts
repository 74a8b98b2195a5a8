/**
 * Generate a small, realistic demo archive: patients with studies over several years, CT/MR/CR
 * series with real (synthetic) pixel data, and a few planted problems a migration must handle:
 * a corrupt file, an object the demo target refuses, and test-patient studies a scope rule excludes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPart10Meta, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/meta.js';
import {
  type ElementValue,
  type SmallDataset,
  EXPLICIT_LE,
  encodeSmallDataset,
} from '../dicom/small-dataset.js';
import { newUid } from '../net/services/commitment-scu.js';

export const SOP = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  CR: '1.2.840.10008.5.1.4.1.1.1',
  /** Encapsulated PDF: the demo target refuses it (a capability gap, quarantined with 0122). */
  PDF: '1.2.840.10008.5.1.4.1.1.104.1',
} as const;

export interface DemoManifest {
  dir: string;
  studies: number;
  instances: number;
  /** Study UIDs of the test patient (excluded by the demo's scope rule). */
  testStudies: string[];
  /** The instance the target refuses (its SOP class). */
  refusedSopInstanceUid: string;
  refusedSopClassUid: string;
  corruptFile: string;
}

/** A deterministic pseudo-random sequence, so the demo looks the same every time. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const el = (ds: SmallDataset, tag: number, vr: string, value: ElementValue) => ds.set(tag, { vr, value });

function image(rows: number, cols: number, rand: () => number): Buffer {
  const px = Buffer.alloc(rows * cols * 2);
  const cx = cols / 2;
  const cy = rows / 2;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const r = Math.hypot(x - cx, y - cy);
      const v = r < rows * 0.4 ? 1000 + Math.round(200 * Math.sin(x / 7) * Math.cos(y / 5)) : 0;
      px.writeUInt16LE(Math.max(0, v + Math.round(rand() * 30)), (y * cols + x) * 2);
    }
  }
  return px;
}

function instanceFile(ds: SmallDataset, sopClassUid: string, sopInstanceUid: string): Buffer {
  const meta = buildPart10Meta({
    sopClassUid,
    sopInstanceUid,
    transferSyntaxUid: EXPLICIT_LE,
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
    implementationVersionName: IMPLEMENTATION_VERSION_NAME,
  });
  return Buffer.concat([meta, encodeSmallDataset(ds, { explicit: true })]);
}

const PATIENTS = [
  { id: 'DEMO001', name: 'Able^Alice', birth: '19540312', sex: 'F' },
  { id: 'DEMO002', name: 'Baker^Bob', birth: '19671103', sex: 'M' },
  { id: 'DEMO003', name: 'Carter^Chris', birth: '19800524', sex: 'O' },
  { id: 'DEMO004', name: 'Dunn^Dana', birth: '19921231', sex: 'F' },
  { id: 'DEMO005', name: 'Ellis^Evan', birth: '20010707', sex: 'M' },
];
export const TEST_PATIENT = { id: 'TEST-QA-01', name: 'Test^Phantom', birth: '', sex: 'O' };

export async function generateDemoArchive(
  dir: string,
  opts: { studiesPerPatient?: number; seed?: number } = {},
): Promise<DemoManifest> {
  const rand = rng(opts.seed ?? 1444);
  await mkdir(dir, { recursive: true });
  let studies = 0;
  let instances = 0;
  const testStudies: string[] = [];
  const write = async (name: string, bytes: Buffer) => {
    await writeFile(join(dir, name), bytes);
    instances++;
  };
  const patients = [...PATIENTS, TEST_PATIENT];
  let refusedSopInstanceUid = '';
  for (const [pi, p] of patients.entries()) {
    const n = p === TEST_PATIENT ? 1 : (opts.studiesPerPatient ?? 3);
    for (let s = 0; s < n; s++) {
      const studyUid = newUid();
      studies++;
      if (p === TEST_PATIENT) testStudies.push(studyUid);
      const year = 2012 + Math.floor(rand() * 13);
      const date = `${year}${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;
      const modality = (['CT', 'MR', 'CR'] as const)[(pi + s) % 3]!;
      const seriesCount = modality === 'CR' ? 1 : 2;
      for (let se = 0; se < seriesCount; se++) {
        const seriesUid = newUid();
        const images = modality === 'CR' ? 1 : 3 + Math.floor(rand() * 3);
        for (let k = 0; k < images; k++) {
          const sopUid = newUid();
          const rows = modality === 'CR' ? 256 : 128;
          const ds: SmallDataset = new Map();
          el(ds, 0x00080005, 'CS', 'ISO_IR 100');
          el(ds, 0x00080016, 'UI', SOP[modality]);
          el(ds, 0x00080018, 'UI', sopUid);
          el(ds, 0x00080020, 'DA', date);
          el(ds, 0x00080030, 'TM', '101500');
          el(ds, 0x00080050, 'SH', `ACC${pi}${s}${year}`);
          el(ds, 0x00080060, 'CS', modality);
          el(ds, 0x00080070, 'LO', ['GE MEDICAL SYSTEMS', 'SIEMENS', 'Philips'][(pi + se) % 3]!);
          el(ds, 0x00080080, 'LO', 'Demo General Hospital');
          el(ds, 0x00081030, 'LO', `${modality} ${['head', 'chest', 'abdomen'][s % 3]}`);
          el(ds, 0x0008103e, 'LO', `${modality} series ${se + 1}`);
          el(ds, 0x00081090, 'LO', ['Model A', 'Model B', 'Model C'][(pi + se) % 3]!);
          el(ds, 0x00100010, 'PN', p.name);
          el(ds, 0x00100020, 'LO', p.id);
          el(ds, 0x00100030, 'DA', p.birth);
          el(ds, 0x00100040, 'CS', p.sex);
          el(ds, 0x00181020, 'LO', `${10 + (year % 5)}.${se}`);
          el(ds, 0x0020000d, 'UI', studyUid);
          el(ds, 0x0020000e, 'UI', seriesUid);
          el(ds, 0x00200010, 'SH', String(s + 1));
          el(ds, 0x00200011, 'IS', String(se + 1));
          el(ds, 0x00200013, 'IS', String(k + 1));
          el(ds, 0x00280002, 'US', 1);
          el(ds, 0x00280004, 'CS', 'MONOCHROME2');
          el(ds, 0x00280010, 'US', rows);
          el(ds, 0x00280011, 'US', rows);
          el(ds, 0x00280100, 'US', 16);
          el(ds, 0x00280101, 'US', 12);
          el(ds, 0x00280102, 'US', 11);
          el(ds, 0x00280103, 'US', 0);
          el(ds, 0x7fe00010, 'OW', image(rows, rows, rand));
          await write(`${studyUid}.${se}.${k}.dcm`, instanceFile(ds, SOP[modality], sopUid));
        }
      }
      // The first patient's first study also holds a scanned referral (Encapsulated PDF): the demo target refuses it.
      if (pi === 0 && s === 0) {
        const sopUid = newUid();
        refusedSopInstanceUid = sopUid;
        const ds: SmallDataset = new Map();
        el(ds, 0x00080016, 'UI', SOP.PDF);
        el(ds, 0x00080018, 'UI', sopUid);
        el(ds, 0x00080020, 'DA', date);
        el(ds, 0x00080060, 'CS', 'DOC');
        el(ds, 0x00080070, 'LO', 'Scan Station');
        el(ds, 0x00100010, 'PN', p.name);
        el(ds, 0x00100020, 'LO', p.id);
        el(ds, 0x0020000d, 'UI', studyUid);
        el(ds, 0x0020000e, 'UI', newUid());
        el(ds, 0x00200011, 'IS', '99');
        el(ds, 0x00200013, 'IS', '1');
        el(ds, 0x00420011, 'OB', Buffer.from('%PDF-1.4\n% pacshift demo referral\n%%EOF\n'));
        el(ds, 0x00420012, 'LO', 'application/pdf');
        await write(`${studyUid}.referral.dcm`, instanceFile(ds, SOP.PDF, sopUid));
      }
    }
  }
  // A corrupt file: a CT header whose pixel data was cut off (a broken export, a full disk long ago).
  const sopUid = newUid();
  const ds: SmallDataset = new Map();
  el(ds, 0x00080016, 'UI', SOP.CT);
  el(ds, 0x00080018, 'UI', sopUid);
  el(ds, 0x00100020, 'LO', PATIENTS[1]!.id);
  el(ds, 0x0020000d, 'UI', newUid());
  el(ds, 0x0020000e, 'UI', newUid());
  el(ds, 0x00280010, 'US', 128);
  el(ds, 0x00280011, 'US', 128);
  el(ds, 0x7fe00010, 'OW', image(128, 128, rand));
  const full = instanceFile(ds, SOP.CT, sopUid);
  const corruptFile = join(dir, 'corrupt-truncated.dcm');
  await writeFile(corruptFile, full.subarray(0, full.length - 20_000));
  return {
    dir,
    studies,
    instances,
    testStudies,
    refusedSopInstanceUid,
    refusedSopClassUid: SOP.PDF,
    corruptFile,
  };
}
