/**
 * Everything the CLI touches outside itself, injected so that `main()` runs in-process in tests
 * with captured output, a fake environment and a shutdown signal under the test's control.
 */
export interface TextSink {
  write(text: string): void;
  /** Whether ANSI colors may be written: a TTY, and neither NO_COLOR nor TERM=dumb says otherwise. */
  readonly hasColors: boolean;
}

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Reads all of standard input (for `-f -`). */
  readStdin(): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths given on the command line resolve against this directory. */
  readonly cwd: string;
  /** Wall-clock milliseconds, for ages ("3m") and "last seen". */
  now(): number;
  /** Aborts when the user asks the process to stop (SIGINT, SIGTERM); long-running commands end then. */
  readonly shutdown: AbortSignal;
}

/** An in-memory sink, for tests and for building output before writing it. */
export class BufferedSink implements TextSink {
  readonly hasColors: boolean;
  #text = '';

  constructor(hasColors = false) {
    this.hasColors = hasColors;
  }

  write(text: string): void {
    this.#text += text;
  }

  get text(): string {
    return this.#text;
  }
}
