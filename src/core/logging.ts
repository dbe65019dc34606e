/**
 * The library's loggers and the mapping from `loggingSetting` to LogTape.
 *
 * Switchyard logs under the LogTape category `["switchyard", …]`. An
 * application that configures LogTape itself keeps full control; otherwise
 * a runner configures a console sink (and a file sink for `logFile`) at the
 * level its `loggingSetting` asks for. The console sink writes to standard
 * error, so a program's own output on standard out stays clean.
 *
 * @module
 */
import {
  type Config,
  configureSync,
  getConfig,
  getConsoleSink,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogLevel,
  type Sink,
} from "npm:@logtape/logtape@^2.0.0";

/**
 * How much a runner logs: `"VERBOSE"` (debug and up), `"REGULAR"` (info and
 * up), `"QUIET"` (warnings and up), `"ERROR"` (errors only) or `"NONE"`.
 * The level names `"DEBUG"`, `"INFO"` and `"WARNING"` are accepted as
 * aliases of `"VERBOSE"`, `"REGULAR"` and `"QUIET"`.
 */
export type LoggingSetting =
  | "VERBOSE"
  | "REGULAR"
  | "QUIET"
  | "ERROR"
  | "NONE"
  | "DEBUG"
  | "INFO"
  | "WARNING";

/** Every accepted {@linkcode LoggingSetting}, aliases included. */
export const LOGGING_SETTINGS = [
  "VERBOSE",
  "REGULAR",
  "QUIET",
  "ERROR",
  "NONE",
  "DEBUG",
  "INFO",
  "WARNING",
] as const satisfies readonly LoggingSetting[];

const ALIASES: Partial<Record<LoggingSetting, LoggingSetting>> = {
  DEBUG: "VERBOSE",
  INFO: "REGULAR",
  WARNING: "QUIET",
};

/**
 * The setting an alias stands for: `"DEBUG"` → `"VERBOSE"`, `"INFO"` →
 * `"REGULAR"`, `"WARNING"` → `"QUIET"`; any other setting as it is.
 *
 * @param setting A logging setting or alias.
 * @returns The setting it names.
 *
 * @example Aliases
 * ```ts
 * import { canonicalLoggingSetting } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(canonicalLoggingSetting("DEBUG"), "VERBOSE");
 * assert.equal(canonicalLoggingSetting("QUIET"), "QUIET");
 * ```
 */
export function canonicalLoggingSetting(setting: LoggingSetting): LoggingSetting {
  return ALIASES[setting] ?? setting;
}

const LEVELS: Record<LoggingSetting, LogLevel | null> = {
  VERBOSE: "debug",
  REGULAR: "info",
  QUIET: "warning",
  ERROR: "error",
  NONE: null,
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warning",
};

/**
 * A logger in the library's category.
 *
 * @param parts Sub-category, e.g. `"runner"`.
 * @returns The logger.
 */
export function logger(...parts: string[]): Logger {
  return getLogger(["switchyard", ...parts]);
}

// Invariant: `ours` is the configuration object this module last installed;
// LogTape's current configuration is ours exactly when getConfig() returns
// it, so one an application installed later is never replaced.
let ours: Config<string, string> | null = null;
let current = "";
// Categories are joined with "." (ASCII): log lines are also exported as
// OpenTelemetry logs, where Deno mangles Latin-1 text such as LogTape's "·".
const formatter = getTextFormatter({ value: "bare", timestamp: "time", category: "." });
// Every level through a console method that writes to standard error
// (console.warn or console.error), so the runtime's lines never mix with a
// program's output. Going through the console (not Deno.stderr) keeps them
// in Deno's OpenTelemetry log export, where the severity follows the method:
// lines below warning are exported as WARN, their text keeps "[INF]"/"[DBG]".
const STDERR_METHODS = {
  trace: "warn",
  debug: "warn",
  info: "warn",
  warning: "warn",
  error: "error",
  fatal: "error",
} as const;

/**
 * A synchronous sink appending each formatted line to a file. Opening per
 * line keeps no file handle open between records (so nothing leaks when a
 * runner ends), and configureSync() accepts it.
 */
function fileSink(path: string): Sink {
  return (record) => {
    try {
      Deno.writeTextFileSync(path, formatter(record), { append: true });
    } catch {
      // A log line that cannot be written must never take the run down.
    }
  };
}

/**
 * Whether LogTape has a configuration (the application's or a runner's).
 *
 * @returns `true` once anything configured it.
 */
export function isLoggingConfigured(): boolean {
  return getConfig() !== null;
}

/**
 * Configures LogTape for the library unless the application did already.
 * Of the runners that ask explicitly, the last one wins; a runner that did
 * not ask (no `loggingSetting` or `logFile` given) only configures logging
 * when nothing has yet.
 *
 * @param setting How much to log.
 * @param logFile A file to append log lines to, if any.
 * @param explicit Whether the caller chose the setting (default `true`).
 */
export function applyLoggingSetting(
  setting: LoggingSetting,
  logFile?: string,
  explicit = true,
): void {
  const key = `${setting}\u0000${logFile ?? ""}`;
  const installed = getConfig();
  if (installed !== null && (installed !== ours || !explicit || key === current)) return;
  const level = LEVELS[setting];
  const sinks: Record<string, Sink> = {
    console: getConsoleSink({ formatter, levelMap: STDERR_METHODS }),
  };
  const names = ["console"];
  if (logFile) {
    sinks.file = fileSink(logFile);
    names.push("file");
  }
  const config: Config<string, string> = {
    reset: true,
    sinks,
    loggers: [
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
      {
        category: ["switchyard"],
        sinks: level ? names : [],
        lowestLevel: level ?? "fatal",
      },
    ],
  };
  configureSync(config);
  ours = config;
  current = key;
}
