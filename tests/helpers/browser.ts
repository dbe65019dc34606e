/**
 * Launches headless Chromium for the browser tests: the system's Chromium
 * when one is installed, else the Chromium shipped inside the npm package
 * `@sparticuz/chromium` (no system package needed). Set
 * `SWITCHYARD_CHROMIUM=npm` to force the npm build, or
 * `SWITCHYARD_CHROMIUM=/path/to/chromium` to use a given binary.
 *
 * @module
 */
import { type Browser, chromium as playwright } from "playwright-core";

/** Flags that keep Chromium off the network and quiet in a test. */
const QUIET = [
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
  "--no-default-browser-check",
];

const SYSTEM_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/** Which Chromium a launch used. */
export interface BrowserChoice {
  /** The executable. */
  executablePath: string;
  /** `"system"` or `"npm"`. */
  source: "system" | "npm";
  /** Command-line flags. */
  args: string[];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function npmChromium(): Promise<BrowserChoice> {
  let mod: typeof import("@sparticuz/chromium");
  try {
    mod = await import("@sparticuz/chromium");
  } catch (error) {
    throw new Error(
      `Cannot run the browser tests as no Chromium is installed and the npm package '@sparticuz/chromium' did not load: ${
        (error as Error).message
      }`,
    );
  }
  const chromium = mod.default;
  let executablePath: string;
  try {
    executablePath = await chromium.executablePath();
  } catch (error) {
    throw new Error(
      `Cannot run the browser tests as the Chromium of '@sparticuz/chromium' could not be unpacked: ${
        (error as Error).message
      }`,
    );
  }
  return { executablePath, source: "npm", args: [...chromium.args, ...QUIET] };
}

/**
 * Picks the Chromium to launch: `SWITCHYARD_CHROMIUM` (`npm` or a path),
 * else a system Chromium, else the npm one.
 *
 * @returns The executable, where it came from and its flags.
 * @throws {Error} One line naming what is missing when neither is usable.
 */
export async function chooseChromium(): Promise<BrowserChoice> {
  const forced = Deno.env.get("SWITCHYARD_CHROMIUM") ?? Deno.env.get("CHROMIUM_PATH");
  const systemArgs = ["--headless=new", "--no-sandbox", "--disable-gpu", ...QUIET];
  if (forced === "npm") return await npmChromium();
  if (forced) {
    if (!await isFile(forced)) {
      throw new Error(
        `Cannot run the browser tests as 'SWITCHYARD_CHROMIUM' must name a Chromium binary or 'npm': current value is '${forced}'`,
      );
    }
    return { executablePath: forced, source: "system", args: systemArgs };
  }
  for (const path of SYSTEM_PATHS) {
    if (await isFile(path)) return { executablePath: path, source: "system", args: systemArgs };
  }
  return await npmChromium();
}

/**
 * Launches headless Chromium (see {@linkcode chooseChromium}).
 *
 * @returns The browser; close it when done.
 */
export async function launchBrowser(): Promise<Browser> {
  const choice = await chooseChromium();
  try {
    return await playwright.launch({
      executablePath: choice.executablePath,
      headless: true,
      args: choice.args,
    });
  } catch (error) {
    throw new Error(
      `Cannot run the browser tests as Chromium (${choice.source}: ${choice.executablePath}) did not start: ${
        (error as Error).message.split("\n")[0]
      }`,
    );
  }
}
