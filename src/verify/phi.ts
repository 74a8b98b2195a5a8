/**
 * Attributes whose values identify a patient (or a person around them). Their values never go into
 * verification details, audit events or messages; reports show them only when `privacy.logPhi` is on.
 * A subset of the PS3.15 Annex E Basic Profile: the attributes pacshift reads and compares.
 */
export const IDENTIFYING_KEYWORDS: ReadonlySet<string> = new Set([
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientBirthTime',
  'PatientBirthName',
  'PatientMotherBirthName',
  'OtherPatientIDs',
  'OtherPatientIDsSequence',
  'OtherPatientNames',
  'PatientAddress',
  'PatientTelephoneNumbers',
  'MedicalRecordLocator',
  'PatientComments',
  'AccessionNumber',
  'ReferringPhysicianName',
  'PerformingPhysicianName',
  'NameOfPhysiciansReadingStudy',
  'OperatorsName',
  'RequestingPhysician',
  'StudyID',
]);

export const isIdentifying = (keyword: string): boolean => IDENTIFYING_KEYWORDS.has(keyword);
