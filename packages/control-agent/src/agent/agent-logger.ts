/** Where the agent reports what an operator may want to know; silent unless one is given. */
export interface AgentLogger {
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentLogger: AgentLogger = { warn: () => {} };
