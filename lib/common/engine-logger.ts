/** The logging the engine needs; Nest's Logger satisfies it, so the Nest layer passes its own. */
export interface EngineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
  debug?(message: string): void;
}
