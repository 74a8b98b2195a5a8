/** pacshift's implementation identity (PS3.7 D.3.3.2-3), defined with the Part 10 meta it also goes into. */
export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/meta.js';
