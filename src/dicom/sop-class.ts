/**
 * SOP classes (PS3.4, PS3.6 Table A-1) as a table: storage SOP classes with a modality hint and a
 * category, plus the query/retrieve, verification and storage-commitment classes pacshift speaks.
 */

export type SopCategory =
  | 'image' // has Pixel Data (includes SEG, RT Dose, parametric maps)
  | 'sr' // structured reports
  | 'presentation' // presentation states
  | 'kos' // key object selection (incl. IOCM rejection notes)
  | 'waveform'
  | 'document' // encapsulated PDF/CDA/STL/OBJ/MTL
  | 'raw' // raw data
  | 'other'; // RT plans/structures, registrations, hanging protocols, measurements, DICOMDIR...

export type SopService = 'storage' | 'find' | 'move' | 'get' | 'verification' | 'storage-commitment';

export interface SopClass {
  readonly uid: string;
  readonly name: string;
  readonly service: SopService;
  readonly category: SopCategory;
  /** Usual Modality (0008,0060) value, when the class implies one. */
  readonly modality?: string;
  readonly retired?: boolean;
}

const S = '1.2.840.10008.5.1.4.1.1.';

const st = (
  suffix: string,
  name: string,
  category: SopCategory,
  modality?: string,
  retired?: boolean,
): SopClass => ({
  uid: S + suffix,
  name,
  service: 'storage',
  category,
  ...(modality !== undefined ? { modality } : {}),
  ...(retired ? { retired } : {}),
});
const R = true;

export const STORAGE_SOP_CLASSES: readonly SopClass[] = [
  st('1', 'Computed Radiography Image Storage', 'image', 'CR'),
  st('1.1', 'Digital X-Ray Image Storage - For Presentation', 'image', 'DX'),
  st('1.1.1', 'Digital X-Ray Image Storage - For Processing', 'image', 'DX'),
  st('1.2', 'Digital Mammography X-Ray Image Storage - For Presentation', 'image', 'MG'),
  st('1.2.1', 'Digital Mammography X-Ray Image Storage - For Processing', 'image', 'MG'),
  st('1.3', 'Digital Intra-Oral X-Ray Image Storage - For Presentation', 'image', 'IO'),
  st('1.3.1', 'Digital Intra-Oral X-Ray Image Storage - For Processing', 'image', 'IO'),
  st('2', 'CT Image Storage', 'image', 'CT'),
  st('2.1', 'Enhanced CT Image Storage', 'image', 'CT'),
  st('2.2', 'Legacy Converted Enhanced CT Image Storage', 'image', 'CT'),
  st('3', 'Ultrasound Multi-frame Image Storage', 'image', 'US', R),
  st('3.1', 'Ultrasound Multi-frame Image Storage', 'image', 'US'),
  st('4', 'MR Image Storage', 'image', 'MR'),
  st('4.1', 'Enhanced MR Image Storage', 'image', 'MR'),
  st('4.2', 'MR Spectroscopy Storage', 'other', 'MR'),
  st('4.3', 'Enhanced MR Color Image Storage', 'image', 'MR'),
  st('4.4', 'Legacy Converted Enhanced MR Image Storage', 'image', 'MR'),
  st('5', 'Nuclear Medicine Image Storage', 'image', 'NM', R),
  st('6', 'Ultrasound Image Storage', 'image', 'US', R),
  st('6.1', 'Ultrasound Image Storage', 'image', 'US'),
  st('6.2', 'Enhanced US Volume Storage', 'image', 'US'),
  st('6.3', 'Photoacoustic Image Storage', 'image', 'PA'),
  st('7', 'Secondary Capture Image Storage', 'image', 'OT'),
  st('7.1', 'Multi-frame Single Bit Secondary Capture Image Storage', 'image', 'OT'),
  st('7.2', 'Multi-frame Grayscale Byte Secondary Capture Image Storage', 'image', 'OT'),
  st('7.3', 'Multi-frame Grayscale Word Secondary Capture Image Storage', 'image', 'OT'),
  st('7.4', 'Multi-frame True Color Secondary Capture Image Storage', 'image', 'OT'),
  st('8', 'Standalone Overlay Storage', 'other', undefined, R),
  st('9', 'Standalone Curve Storage', 'other', undefined, R),
  st('9.1', 'Waveform Storage - Trial', 'waveform', undefined, R),
  st('9.1.1', '12-lead ECG Waveform Storage', 'waveform', 'ECG'),
  st('9.1.2', 'General ECG Waveform Storage', 'waveform', 'ECG'),
  st('9.1.3', 'Ambulatory ECG Waveform Storage', 'waveform', 'ECG'),
  st('9.1.4', 'General 32-bit ECG Waveform Storage', 'waveform', 'ECG'),
  st('9.2.1', 'Hemodynamic Waveform Storage', 'waveform', 'HD'),
  st('9.3.1', 'Cardiac Electrophysiology Waveform Storage', 'waveform', 'EPS'),
  st('9.4.1', 'Basic Voice Audio Waveform Storage', 'waveform', 'AU'),
  st('9.4.2', 'General Audio Waveform Storage', 'waveform', 'AU'),
  st('9.5.1', 'Arterial Pulse Waveform Storage', 'waveform', 'HD'),
  st('9.6.1', 'Respiratory Waveform Storage', 'waveform', 'RESP'),
  st('9.6.2', 'Multi-channel Respiratory Waveform Storage', 'waveform', 'RESP'),
  st('9.7.1', 'Routine Scalp Electroencephalogram Waveform Storage', 'waveform', 'EEG'),
  st('9.7.2', 'Electromyogram Waveform Storage', 'waveform', 'EMG'),
  st('9.7.3', 'Electrooculogram Waveform Storage', 'waveform', 'EOG'),
  st('9.7.4', 'Sleep Electroencephalogram Waveform Storage', 'waveform', 'EEG'),
  st('9.8.1', 'Body Position Waveform Storage', 'waveform', 'POS'),
  st('9.100.1', 'Waveform Presentation State Storage', 'presentation', 'PR'),
  st('9.100.2', 'Waveform Acquisition Presentation State Storage', 'presentation', 'PR'),
  st('10', 'Standalone Modality LUT Storage', 'other', undefined, R),
  st('11', 'Standalone VOI LUT Storage', 'other', undefined, R),
  st('11.1', 'Grayscale Softcopy Presentation State Storage', 'presentation', 'PR'),
  st('11.2', 'Color Softcopy Presentation State Storage', 'presentation', 'PR'),
  st('11.3', 'Pseudo-Color Softcopy Presentation State Storage', 'presentation', 'PR'),
  st('11.4', 'Blending Softcopy Presentation State Storage', 'presentation', 'PR'),
  st('11.5', 'XA/XRF Grayscale Softcopy Presentation State Storage', 'presentation', 'PR'),
  st('11.6', 'Grayscale Planar MPR Volumetric Presentation State Storage', 'presentation', 'PR'),
  st('11.7', 'Compositing Planar MPR Volumetric Presentation State Storage', 'presentation', 'PR'),
  st('11.8', 'Advanced Blending Presentation State Storage', 'presentation', 'PR'),
  st('11.9', 'Volume Rendering Volumetric Presentation State Storage', 'presentation', 'PR'),
  st('11.10', 'Segmented Volume Rendering Volumetric Presentation State Storage', 'presentation', 'PR'),
  st('11.11', 'Multiple Volume Rendering Volumetric Presentation State Storage', 'presentation', 'PR'),
  st('11.12', 'Variable Modality LUT Softcopy Presentation State Storage', 'presentation', 'PR'),
  st('12.1', 'X-Ray Angiographic Image Storage', 'image', 'XA'),
  st('12.1.1', 'Enhanced XA Image Storage', 'image', 'XA'),
  st('12.2', 'X-Ray Radiofluoroscopic Image Storage', 'image', 'RF'),
  st('12.2.1', 'Enhanced XRF Image Storage', 'image', 'RF'),
  st('12.3', 'X-Ray Angiographic Bi-Plane Image Storage', 'image', 'XA', R),
  st('13.1.1', 'X-Ray 3D Angiographic Image Storage', 'image', 'XA'),
  st('13.1.2', 'X-Ray 3D Craniofacial Image Storage', 'image', 'DX'),
  st('13.1.3', 'Breast Tomosynthesis Image Storage', 'image', 'MG'),
  st('13.1.4', 'Breast Projection X-Ray Image Storage - For Presentation', 'image', 'MG'),
  st('13.1.5', 'Breast Projection X-Ray Image Storage - For Processing', 'image', 'MG'),
  st('14.1', 'Intravascular Optical Coherence Tomography Image Storage - For Presentation', 'image', 'IVOCT'),
  st('14.2', 'Intravascular Optical Coherence Tomography Image Storage - For Processing', 'image', 'IVOCT'),
  st('20', 'Nuclear Medicine Image Storage', 'image', 'NM'),
  st('30', 'Parametric Map Storage', 'image'),
  st('66', 'Raw Data Storage', 'raw'),
  st('66.1', 'Spatial Registration Storage', 'other', 'REG'),
  st('66.2', 'Spatial Fiducials Storage', 'other', 'FID'),
  st('66.3', 'Deformable Spatial Registration Storage', 'other', 'REG'),
  st('66.4', 'Segmentation Storage', 'image', 'SEG'),
  st('66.5', 'Surface Segmentation Storage', 'other', 'SEG'),
  st('66.6', 'Tractography Results Storage', 'other'),
  st('66.7', 'Label Map Segmentation Storage', 'image', 'SEG'),
  st('66.8', 'Height Map Segmentation Storage', 'image', 'SEG'),
  st('67', 'Real World Value Mapping Storage', 'other', 'RWV'),
  st('68.1', 'Surface Scan Mesh Storage', 'other', 'OSS'),
  st('68.2', 'Surface Scan Point Cloud Storage', 'other', 'OSS'),
  st('77.1', 'VL Image Storage - Trial', 'image', undefined, R),
  st('77.2', 'VL Multi-frame Image Storage - Trial', 'image', undefined, R),
  st('77.1.1', 'VL Endoscopic Image Storage', 'image', 'ES'),
  st('77.1.1.1', 'Video Endoscopic Image Storage', 'image', 'ES'),
  st('77.1.2', 'VL Microscopic Image Storage', 'image', 'GM'),
  st('77.1.2.1', 'Video Microscopic Image Storage', 'image', 'GM'),
  st('77.1.3', 'VL Slide-Coordinates Microscopic Image Storage', 'image', 'SM'),
  st('77.1.4', 'VL Photographic Image Storage', 'image', 'XC'),
  st('77.1.4.1', 'Video Photographic Image Storage', 'image', 'XC'),
  st('77.1.5.1', 'Ophthalmic Photography 8 Bit Image Storage', 'image', 'OP'),
  st('77.1.5.2', 'Ophthalmic Photography 16 Bit Image Storage', 'image', 'OP'),
  st('77.1.5.3', 'Stereometric Relationship Storage', 'other', 'SMR'),
  st('77.1.5.4', 'Ophthalmic Tomography Image Storage', 'image', 'OPT'),
  st('77.1.5.5', 'Wide Field Ophthalmic Photography Stereographic Projection Image Storage', 'image', 'OP'),
  st('77.1.5.6', 'Wide Field Ophthalmic Photography 3D Coordinates Image Storage', 'image', 'OP'),
  st('77.1.5.7', 'Ophthalmic Optical Coherence Tomography En Face Image Storage', 'image', 'OPT'),
  st('77.1.5.8', 'Ophthalmic Optical Coherence Tomography B-scan Volume Analysis Storage', 'image', 'OPT'),
  st('77.1.6', 'VL Whole Slide Microscopy Image Storage', 'image', 'SM'),
  st('77.1.7', 'Dermoscopic Photography Image Storage', 'image', 'DMS'),
  st('77.1.8', 'Confocal Microscopy Image Storage', 'image', 'CFM'),
  st('77.1.9', 'Confocal Microscopy Tiled Pyramidal Image Storage', 'image', 'CFM'),
  st('78.1', 'Lensometry Measurements Storage', 'other', 'LEN'),
  st('78.2', 'Autorefraction Measurements Storage', 'other', 'AR'),
  st('78.3', 'Keratometry Measurements Storage', 'other', 'KER'),
  st('78.4', 'Subjective Refraction Measurements Storage', 'other', 'SRF'),
  st('78.5', 'Visual Acuity Measurements Storage', 'other', 'VA'),
  st('78.6', 'Spectacle Prescription Report Storage', 'other'),
  st('78.7', 'Ophthalmic Axial Measurements Storage', 'other', 'OAM'),
  st('78.8', 'Intraocular Lens Calculations Storage', 'other', 'IOL'),
  st('79.1', 'Macular Grid Thickness and Volume Report Storage', 'sr', 'SR'),
  st('80.1', 'Ophthalmic Visual Field Static Perimetry Measurements Storage', 'other', 'OPV'),
  st('81.1', 'Ophthalmic Thickness Map Storage', 'image', 'OPM'),
  st('82.1', 'Corneal Topography Map Storage', 'image', 'OPM'),
  st('88.1', 'Text SR Storage - Trial', 'sr', 'SR', R),
  st('88.2', 'Audio SR Storage - Trial', 'sr', 'SR', R),
  st('88.3', 'Detail SR Storage - Trial', 'sr', 'SR', R),
  st('88.4', 'Comprehensive SR Storage - Trial', 'sr', 'SR', R),
  st('88.11', 'Basic Text SR Storage', 'sr', 'SR'),
  st('88.22', 'Enhanced SR Storage', 'sr', 'SR'),
  st('88.33', 'Comprehensive SR Storage', 'sr', 'SR'),
  st('88.34', 'Comprehensive 3D SR Storage', 'sr', 'SR'),
  st('88.35', 'Extensible SR Storage', 'sr', 'SR'),
  st('88.40', 'Procedure Log Storage', 'sr', 'SR'),
  st('88.50', 'Mammography CAD SR Storage', 'sr', 'SR'),
  st('88.59', 'Key Object Selection Document Storage', 'kos', 'KO'),
  st('88.65', 'Chest CAD SR Storage', 'sr', 'SR'),
  st('88.67', 'X-Ray Radiation Dose SR Storage', 'sr', 'SR'),
  st('88.68', 'Radiopharmaceutical Radiation Dose SR Storage', 'sr', 'SR'),
  st('88.69', 'Colon CAD SR Storage', 'sr', 'SR'),
  st('88.70', 'Implantation Plan SR Storage', 'sr', 'SR'),
  st('88.71', 'Acquisition Context SR Storage', 'sr', 'SR'),
  st('88.72', 'Simplified Adult Echo SR Storage', 'sr', 'SR'),
  st('88.73', 'Patient Radiation Dose SR Storage', 'sr', 'SR'),
  st('88.74', 'Planned Imaging Agent Administration SR Storage', 'sr', 'SR'),
  st('88.75', 'Performed Imaging Agent Administration SR Storage', 'sr', 'SR'),
  st('88.76', 'Enhanced X-Ray Radiation Dose SR Storage', 'sr', 'SR'),
  st('88.77', 'Waveform Annotation SR Storage', 'sr', 'SR'),
  st('90.1', 'Content Assessment Results Storage', 'other', 'ASMT'),
  st('91.1', 'Microscopy Bulk Simple Annotations Storage', 'other', 'ANN'),
  st('104.1', 'Encapsulated PDF Storage', 'document', 'DOC'),
  st('104.2', 'Encapsulated CDA Storage', 'document', 'DOC'),
  st('104.3', 'Encapsulated STL Storage', 'document', 'M3D'),
  st('104.4', 'Encapsulated OBJ Storage', 'document', 'M3D'),
  st('104.5', 'Encapsulated MTL Storage', 'document', 'M3D'),
  st('128', 'Positron Emission Tomography Image Storage', 'image', 'PT'),
  st('128.1', 'Legacy Converted Enhanced PET Image Storage', 'image', 'PT'),
  st('129', 'Standalone PET Curve Storage', 'other', 'PT', R),
  st('130', 'Enhanced PET Image Storage', 'image', 'PT'),
  st('131', 'Basic Structured Display Storage', 'presentation'),
  st('200.1', 'CT Defined Procedure Protocol Storage', 'other', 'PLAN'),
  st('200.2', 'CT Performed Procedure Protocol Storage', 'other', 'CT'),
  st('200.3', 'Protocol Approval Storage', 'other'),
  st('200.7', 'XA Defined Procedure Protocol Storage', 'other', 'PLAN'),
  st('200.8', 'XA Performed Procedure Protocol Storage', 'other', 'XA'),
  st('201.1', 'Inventory Storage', 'other'),
  st('481.1', 'RT Image Storage', 'image', 'RTIMAGE'),
  st('481.2', 'RT Dose Storage', 'image', 'RTDOSE'),
  st('481.3', 'RT Structure Set Storage', 'other', 'RTSTRUCT'),
  st('481.4', 'RT Beams Treatment Record Storage', 'other', 'RTRECORD'),
  st('481.5', 'RT Plan Storage', 'other', 'RTPLAN'),
  st('481.6', 'RT Brachy Treatment Record Storage', 'other', 'RTRECORD'),
  st('481.7', 'RT Treatment Summary Record Storage', 'other', 'RTRECORD'),
  st('481.8', 'RT Ion Plan Storage', 'other', 'RTPLAN'),
  st('481.9', 'RT Ion Beams Treatment Record Storage', 'other', 'RTRECORD'),
  st('481.10', 'RT Physician Intent Storage', 'other', 'RTINTENT'),
  st('481.11', 'RT Segment Annotation Storage', 'other', 'RTSEGANN'),
  st('481.12', 'RT Radiation Set Storage', 'other', 'RTRAD'),
  st('481.13', 'C-Arm Photon-Electron Radiation Storage', 'other', 'RTRAD'),
  st('481.14', 'Tomotherapeutic Radiation Storage', 'other', 'RTRAD'),
  st('481.15', 'Robotic-Arm Radiation Storage', 'other', 'RTRAD'),
  st('481.16', 'RT Radiation Record Set Storage', 'other', 'RTRECORD'),
  st('481.17', 'RT Radiation Salvage Record Storage', 'other', 'RTRECORD'),
  st('481.18', 'Tomotherapeutic Radiation Record Storage', 'other', 'RTRECORD'),
  st('481.19', 'C-Arm Photon-Electron Radiation Record Storage', 'other', 'RTRECORD'),
  st('481.20', 'Robotic Radiation Record Storage', 'other', 'RTRECORD'),
  st('481.21', 'RT Radiation Set Delivery Instruction Storage', 'other', 'RTPLAN'),
  st('481.22', 'RT Treatment Preparation Storage', 'other', 'RTPLAN'),
  st('481.23', 'Enhanced RT Image Storage', 'image', 'RTIMAGE'),
  st('481.24', 'Enhanced Continuous RT Image Storage', 'image', 'RTIMAGE'),
  st('481.25', 'RT Patient Position Acquisition Instruction Storage', 'other', 'RTPLAN'),
  // Outside the 5.1.4.1.1 arc:
  {
    uid: '1.2.840.10008.5.1.4.34.7',
    name: 'RT Beams Delivery Instruction Storage',
    service: 'storage',
    category: 'other',
    modality: 'RTPLAN',
  },
  {
    uid: '1.2.840.10008.5.1.4.34.10',
    name: 'RT Brachy Application Setup Delivery Instruction Storage',
    service: 'storage',
    category: 'other',
    modality: 'RTPLAN',
  },
  {
    uid: '1.2.840.10008.5.1.4.38.1',
    name: 'Hanging Protocol Storage',
    service: 'storage',
    category: 'other',
  },
  { uid: '1.2.840.10008.5.1.4.39.1', name: 'Color Palette Storage', service: 'storage', category: 'other' },
  {
    uid: '1.2.840.10008.5.1.4.43.1',
    name: 'Generic Implant Template Storage',
    service: 'storage',
    category: 'other',
  },
  {
    uid: '1.2.840.10008.5.1.4.44.1',
    name: 'Implant Assembly Template Storage',
    service: 'storage',
    category: 'other',
  },
  {
    uid: '1.2.840.10008.5.1.4.45.1',
    name: 'Implant Template Group Storage',
    service: 'storage',
    category: 'other',
  },
  {
    uid: '1.2.840.10008.5.1.1.29',
    name: 'Hardcopy Grayscale Image Storage',
    service: 'storage',
    category: 'image',
    modality: 'HC',
    retired: true,
  },
  {
    uid: '1.2.840.10008.5.1.1.30',
    name: 'Hardcopy Color Image Storage',
    service: 'storage',
    category: 'image',
    modality: 'HC',
    retired: true,
  },
  // Not sent over C-STORE, but found as files.
  {
    uid: '1.2.840.10008.1.3.10',
    name: 'Media Storage Directory Storage',
    service: 'storage',
    category: 'other',
  },
];

const Q = '1.2.840.10008.5.1.4.1.2.';
const svc = (uid: string, name: string, service: SopService, retired?: boolean): SopClass => ({
  uid,
  name,
  service,
  category: 'other',
  ...(retired ? { retired } : {}),
});

export const VERIFICATION = '1.2.840.10008.1.1';
export const STORAGE_COMMITMENT_PUSH_MODEL = '1.2.840.10008.1.20.1';
export const STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE = '1.2.840.10008.1.20.1.1';
export const PATIENT_ROOT_FIND = Q + '1.1';
export const PATIENT_ROOT_MOVE = Q + '1.2';
export const PATIENT_ROOT_GET = Q + '1.3';
export const STUDY_ROOT_FIND = Q + '2.1';
export const STUDY_ROOT_MOVE = Q + '2.2';
export const STUDY_ROOT_GET = Q + '2.3';

export const SERVICE_SOP_CLASSES: readonly SopClass[] = [
  svc(VERIFICATION, 'Verification SOP Class', 'verification'),
  svc(STORAGE_COMMITMENT_PUSH_MODEL, 'Storage Commitment Push Model SOP Class', 'storage-commitment'),
  svc(PATIENT_ROOT_FIND, 'Patient Root Query/Retrieve Information Model - FIND', 'find'),
  svc(PATIENT_ROOT_MOVE, 'Patient Root Query/Retrieve Information Model - MOVE', 'move'),
  svc(PATIENT_ROOT_GET, 'Patient Root Query/Retrieve Information Model - GET', 'get'),
  svc(STUDY_ROOT_FIND, 'Study Root Query/Retrieve Information Model - FIND', 'find'),
  svc(STUDY_ROOT_MOVE, 'Study Root Query/Retrieve Information Model - MOVE', 'move'),
  svc(STUDY_ROOT_GET, 'Study Root Query/Retrieve Information Model - GET', 'get'),
  svc(Q + '3.1', 'Patient/Study Only Query/Retrieve Information Model - FIND', 'find', true),
  svc(Q + '3.2', 'Patient/Study Only Query/Retrieve Information Model - MOVE', 'move', true),
  svc(Q + '3.3', 'Patient/Study Only Query/Retrieve Information Model - GET', 'get', true),
  svc(Q + '4.2', 'Composite Instance Root Retrieve - MOVE', 'move'),
  svc(Q + '4.3', 'Composite Instance Root Retrieve - GET', 'get'),
  svc(Q + '5.3', 'Composite Instance Retrieve Without Bulk Data - GET', 'get'),
];

export const SOP_CLASSES: readonly SopClass[] = [...STORAGE_SOP_CLASSES, ...SERVICE_SOP_CLASSES];

const byUid = new Map(SOP_CLASSES.map((c) => [c.uid, c]));
const byName = new Map(SOP_CLASSES.map((c) => [c.name, c]));

/** Looks a SOP class up by UID (trailing NUL/space padding tolerated). */
export const lookupSopClass = (uid: string): SopClass | undefined => byUid.get(uid.replace(/[\0 ]+$/, ''));
export const sopClassByName = (name: string): SopClass | undefined => byName.get(name);
export const isStorageSopClass = (uid: string): boolean => lookupSopClass(uid)?.service === 'storage';
/** A human label: the name, or the UID itself for private/unknown classes. */
export const sopClassLabel = (uid: string): string => lookupSopClass(uid)?.name ?? uid;
