// dcmjs ships no TypeScript types; pacshift uses it only to inspect headers and build small data sets.
declare module 'dcmjs';
