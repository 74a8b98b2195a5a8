/** The plan could not be loaded: the message lists each path and its fix (never the values). */
export class PlanLoadError extends Error {}

/**
 * The local environment stops a command before it can start: its state database cannot be opened (a
 * folder that does not exist, a server that does not answer), a port it must listen on is taken. The
 * message is one line naming the path or port and what is wrong (exit 70, no stack trace).
 */
export class LocalSetupError extends Error {}
