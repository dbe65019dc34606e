/**
 * A node's `permissions` as the flags of a child `deno` process, never
 * wider than the host's own.
 *
 * @module
 */
import type { WorkerPermissions } from "../core/node.ts";
import { describeValue } from "../core/describe.ts";

/** The permissions a child process can be given, and their query field. */
const KINDS: Record<string, "path" | "host" | "variable" | "command" | "kind" | null> = {
  read: "path",
  write: "path",
  net: "host",
  env: "variable",
  run: "command",
  ffi: "path",
  sys: "kind",
  import: "host",
};

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(descriptor).state === "granted";
}

/**
 * The `--allow-*` flags that give a child process these permissions.
 *
 * - `"inherit"`: each permission the host holds in full (a host allowed
 *   only some paths or hosts passes none of that kind on);
 * - `"none"`: no flags;
 * - an object: `true` or `"inherit"` for the whole permission, a list for
 *   some paths/hosts/names, `false` or absent for none.
 *
 * @param permissions The node's (or pool's) permissions.
 * @returns The flags.
 * @throws {TypeError} If a permission is unknown, malformed, or wider than
 *   the host's (a child process could otherwise get more than its host).
 */
export function permissionFlags(permissions: WorkerPermissions): string[] {
  if (permissions === "none") return [];
  if (permissions === "inherit") {
    return Object.keys(KINDS).filter((name) => granted({ name } as Deno.PermissionDescriptor))
      .map((name) => `--allow-${name}`);
  }
  const flags: string[] = [];
  for (const [name, value] of Object.entries(permissions)) {
    if (!(name in KINDS)) {
      throw new TypeError(
        `Cannot start a child process as 'permissions.${name}' is not a permission (one of ${
          Object.keys(KINDS).join(", ")
        }): current value is ${describeValue(value)}`,
      );
    }
    if (value === false || value === undefined) continue;
    if (value === true || value === "inherit") {
      if (!granted({ name } as Deno.PermissionDescriptor)) {
        if (value === "inherit") continue;
        throw new TypeError(
          `Cannot start a child process with 'permissions.${name}' true as the host does not hold all of it: current value is true`,
        );
      }
      flags.push(`--allow-${name}`);
      continue;
    }
    const field = KINDS[name]!;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" && !(v instanceof URL))) {
      throw new TypeError(
        `Cannot start a child process as 'permissions.${name}' must be a boolean, "inherit" or a list of strings: current value is ${
          describeValue(value)
        }`,
      );
    }
    const items = value.map(String);
    for (const item of items) {
      if (item.includes(",")) {
        throw new TypeError(
          `Cannot start a child process as 'permissions.${name}' entries must not contain a comma: current value is ${
            describeValue(item)
          }`,
        );
      }
      if (!granted({ name, [field]: item } as unknown as Deno.PermissionDescriptor)) {
        throw new TypeError(
          `Cannot start a child process with 'permissions.${name}' ${
            describeValue(item)
          } as the host does not hold it: current value is ${describeValue(value)}`,
        );
      }
    }
    if (items.length > 0) flags.push(`--allow-${name}=${items.join(",")}`);
  }
  return flags;
}

/**
 * The flags plus import access to the `http:`/`https:` hosts of the modules
 * a child must load to start (the library's own worker modules, a module
 * node's module): the host chose them, and a child importing the library
 * from the address its host did could not start without it. A flag that
 * allows every import already covers them; a host the parent holds no
 * import access to is left out (never wider than the host's).
 *
 * @param flags The `--allow-*` flags from {@linkcode permissionFlags}.
 * @param urls The modules the child imports as it starts.
 * @returns The flags, with those hosts added to `--allow-import`.
 */
export function withStartImports(flags: readonly string[], urls: readonly string[]): string[] {
  if (flags.includes("--allow-import")) return [...flags];
  const hosts = new Set<string>();
  for (const url of urls) {
    const parsed = URL.parse(url);
    if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) continue;
    if (granted({ name: "import", host: parsed.host })) hosts.add(parsed.host);
  }
  if (hosts.size === 0) return [...flags];
  const prefix = "--allow-import=";
  const at = flags.findIndex((flag) => flag.startsWith(prefix));
  if (at < 0) return [...flags, `${prefix}${[...hosts].join(",")}`];
  for (const host of flags[at].slice(prefix.length).split(",")) hosts.delete(host);
  const out = [...flags];
  if (hosts.size > 0) out[at] = `${flags[at]},${[...hosts].join(",")}`;
  return out;
}
