/** The plan could not be loaded: the message lists each path and its fix (never the values). */
export class PlanLoadError extends Error {}
