/**
 * Checks that the library's folders form layers: the folder-to-folder import
 * graph has no cycle, and no file imports a `_` file of another folder.
 *
 * Usage: `deno run --allow-read tools/check_layers.ts [root]` (default: the
 * repository this file sits in). Exits 1 and names every offending import.
 *
 * @module
 */

import { dirname, join, normalize, relative } from "node:path";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The folders whose files are checked, relative to the root. */
const SCANNED = ["src", "workers"];
/** Static `import … from` / `export … from`, and dynamic `import()` of a relative path. */
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^"';]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** An import of one file by another, relative to the root. */
export interface ImportEdge {
  /** The importing file. */
  from: string;
  /** The imported file. */
  to: string;
}

function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listFiles(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

/** Reads every relative import of the scanned folders under `root`. */
export function readImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of SCANNED.flatMap((dir) => listFiles(join(root, dir)))) {
    // JSDoc examples import the published names, never relative paths; skip comment lines anyway.
    const code = readFileSync(file, "utf8").split("\n").filter((line) =>
      !/^\s*(\*|\/\/)/.test(line)
    )
      .join("\n");
    for (const match of code.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2];
      edges.push({
        from: relative(root, file),
        to: normalize(join(dirname(relative(root, file)), spec)),
      });
    }
  }
  return edges;
}

/** Returns one message per rule broken by `edges`; empty when the layers hold. */
export function layerProblems(edges: ImportEdge[]): string[] {
  const problems: string[] = [];
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const edge of edges) {
    const a = dirname(edge.from);
    const b = dirname(edge.to);
    if (a === b) continue;
    const name = edge.to.split("/").at(-1)!;
    if (name.startsWith("_")) {
      problems.push(`${edge.from} imports ${edge.to}, a file private to ${b}/`);
    }
    if (!graph.has(a)) graph.set(a, new Map());
    if (!graph.get(a)!.has(b)) graph.get(a)!.set(b, edge);
  }
  // Depth-first search; a grey folder reached again closes a cycle.
  const colour = new Map<string, "grey" | "black">();
  const path: string[] = [];
  const visit = (folder: string): void => {
    colour.set(folder, "grey");
    path.push(folder);
    for (const [next, edge] of graph.get(folder) ?? []) {
      if (colour.get(next) === "grey") {
        const cycle = [...path.slice(path.indexOf(next)), next];
        problems.push(`folder cycle ${cycle.join(" -> ")} (closed by ${edge.from} -> ${edge.to})`);
      } else if (!colour.has(next)) visit(next);
    }
    path.pop();
    colour.set(folder, "black");
  };
  for (const folder of [...graph.keys()].sort()) if (!colour.has(folder)) visit(folder);
  return problems;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = layerProblems(readImports(root));
  for (const problem of problems) console.error(`layers: ${problem}`);
  if (problems.length > 0) Deno.exit(1);
}
