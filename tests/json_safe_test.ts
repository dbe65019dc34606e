import assert from "node:assert/strict";
import fc from "fast-check";
import { node, Runner } from "../mod.ts";
import { loadRun } from "../persistence.ts";
import { safeStringify, toJsonSafe } from "../src/core/json_safe.ts";
import { describeValue } from "../src/core/describe.ts";

/** Values that fail when read, each in its own way. */
function hostile() {
  const revocable = Proxy.revocable({ a: 1 }, {});
  revocable.revoke();
  const badMessage = new Error("x");
  Object.defineProperty(badMessage, "message", {
    get() {
      throw new Error("message getter");
    },
  });
  return {
    getter: Object.defineProperty({ kept: 1 }, "bad", {
      enumerable: true,
      get() {
        throw new Error("getter");
      },
    }),
    toJSON: {
      toJSON: () => {
        throw new Error("toJSON");
      },
    },
    badMessage,
    revoked: revocable.proxy,
    trapped: new Proxy({ b: 2 }, {
      ownKeys() {
        throw new Error("ownKeys trap");
      },
    }),
    getTrap: new Proxy({ c: 3, d: 4 }, {
      get(target, key) {
        if (key === "d") throw new Error("get trap");
        return Reflect.get(target, key);
      },
    }),
    proxy: new Proxy({ e: 5 }, {}),
  };
}

function deep(value: unknown, levels: number): unknown {
  let out = value;
  for (let i = 0; i < levels; i++) out = { level: i, out, [`sibling${i}`]: i };
  return out;
}

Deno.test("toJsonSafe() replaces only the value that cannot be read, at any depth", () => {
  for (const levels of [0, 1, 5, 20]) {
    const value = deep({ ...hostile(), fine: [1, "two", { three: 3 }] }, levels);
    const safe = JSON.parse(safeStringify(value));
    let at = safe;
    for (let i = levels - 1; i >= 0; i--) {
      assert.equal(at.level, i);
      assert.equal(at[`sibling${i}`], i);
      at = at.out;
    }
    assert.deepEqual(at.fine, [1, "two", { three: 3 }]);
    assert.equal(at.getter.kept, 1);
    assert.match(at.getter.bad, /^\[Unserializable: .*getter\]$/);
    assert.match(at.toJSON, /^\[Unserializable: .*toJSON\]$/);
    assert.equal(at.badMessage.name, "Error");
    assert.match(at.badMessage.message, /^\[Unserializable: .*message getter\]$/);
    assert.match(at.revoked, /^\[Unserializable: .*revoked.*\]$/);
    assert.match(at.trapped, /^\[Unserializable: .*ownKeys trap\]$/);
    assert.equal(at.getTrap.c, 3);
    assert.match(at.getTrap.d, /^\[Unserializable: .*get trap\]$/);
    assert.deepEqual(at.proxy, { e: 5 });
  }
});

Deno.test("toJsonSafe() survives values whose error cannot be described either", () => {
  const nasty = new Proxy({}, {
    ownKeys() {
      // The thrown value is itself a revoked proxy: even describing it throws.
      const r = Proxy.revocable({}, {});
      r.revoke();
      throw r.proxy;
    },
  });
  const safe = toJsonSafe({ ok: 1, nasty }) as Record<string, unknown>;
  assert.equal(safe.ok, 1);
  assert.match(String(safe.nasty), /^\[Unserializable/);
  assert.doesNotThrow(() => describeValue(hostile().badMessage));
  assert.doesNotThrow(() => describeValue(hostile().revoked));
});

Deno.test("A run with unreadable values saves, logs and loads everything else", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-json-safe-" });
  try {
    const echo = node(async (input: unknown) => ({ input, extra: hostile(), ok: "yes" }), {
      name: "echo",
    });
    {
      await using runner = new Runner({
        loggingSetting: "NONE",
        saveState: true,
        stateDir,
        runIdentifier: "hostile",
      });
      const info = await runner.run(echo, { arg: hostile(), plain: 7 });
      const [run] = JSON.parse(info.graphSerialization());
      assert.equal(run.name, "echo");
      const { inputArgs, output } = run.edges[0].details;
      assert.equal(inputArgs[0].plain, 7);
      assert.equal(inputArgs[0].arg.getter.kept, 1);
      assert.equal(output.ok, "yes");
      assert.match(output.extra.revoked, /^\[Unserializable/);
    }
    const log = await Deno.readTextFile(`${stateDir}/runs/hostile.events.jsonl`);
    for (const line of log.trim().split("\n")) {
      const event = JSON.parse(line);
      assert.equal(typeof event, "object", line);
      assert.equal(typeof event.event, "string", line);
    }
    const loaded = await loadRun(stateDir, "hostile");
    assert.equal(loaded.status, "Completed");
    const edge = loaded.runs[0].edges[0] as {
      details: {
        inputArgs: { plain: number }[];
        output: { ok: string; extra: { getTrap: { c: number } } };
      };
    };
    assert.equal(edge.details.inputArgs[0].plain, 7);
    assert.equal(edge.details.output.ok, "yes");
    assert.equal(edge.details.output.extra.getTrap.c, 3);
    // The log alone rebuilds the same values.
    await Deno.remove(`${stateDir}/runs/hostile.json`);
    const fromLog = await loadRun(stateDir, "hostile");
    assert.equal(fromLog.source, "events");
    const logged = fromLog.runs[0].edges[0] as typeof edge;
    assert.equal(logged.details.output.ok, "yes");
    assert.equal(logged.details.inputArgs[0].plain, 7);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("A node failing with an error whose message getter throws is recorded as failed", async () => {
  const bad = new Error("x");
  Object.defineProperty(bad, "message", {
    get() {
      throw new Error("message getter");
    },
  });
  await using runner = new Runner({ loggingSetting: "NONE" });
  await assert.rejects(runner.run(node(async () => {
    throw bad;
  }, { name: "thrower" })));
  const [run] = JSON.parse(runner.info.graphSerialization());
  assert.equal(run.status, "Failed");
  assert.equal(run.edges[0].details.status, "Failed");
});

Deno.test("toJsonSafe() keeps everything but the unreadable values, wherever they are (property)", () => {
  const kinds = Object.keys(hostile()) as (keyof ReturnType<typeof hostile>)[];
  const unreadable = kinds.filter((k) => k !== "proxy" && k !== "getTrap");
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(...unreadable)), { maxLength: 5 }),
      (clean, inserts) => {
        const data = structuredClone(clean);
        // Containers of the data, in a fixed order, to plant values into.
        const containers: object[] = [];
        const walk = (v: unknown) => {
          if (v && typeof v === "object") {
            containers.push(v);
            Object.values(v).forEach(walk);
          }
        };
        walk(data);
        const planted: [object, string][] = [];
        if (containers.length > 0) {
          inserts.forEach(([at, kind], i) => {
            const container = containers[at % containers.length] as Record<string, unknown>;
            const key = Array.isArray(container) ? String(container.length) : `bad${i}`;
            container[key] = hostile()[kind];
            planted.push([container, key]);
          });
        }
        const safe = toJsonSafe(data);
        // Each planted value is a placeholder at its own place (an Error
        // keeps its name, an object its readable keys); removing them leaves
        // exactly the clean data.
        const safeContainers: Record<string, unknown>[] = [];
        const walkSafe = (v: unknown, original: unknown) => {
          if (original && typeof original === "object") {
            safeContainers.push(v as Record<string, unknown>);
            for (const [k, child] of Object.entries(original)) {
              if (planted.some(([c, key]) => c === original && key === k)) continue;
              walkSafe((v as Record<string, unknown>)[k], child);
            }
          }
        };
        walkSafe(safe, data);
        for (const [container, key] of planted.toReversed()) {
          const at = safeContainers[containers.indexOf(container)];
          const value = at[key];
          // The getter kind keeps its readable part; an Error keeps its name.
          const { message, bad } = (value ?? {}) as { message?: string; bad?: string };
          const text = typeof value === "string" ? value : message ?? bad;
          assert.match(String(text), /^\[Unserializable: /);
          if (Array.isArray(at)) at.splice(Number(key), 1);
          else delete at[key];
        }
        assert.deepEqual(safe, JSON.parse(JSON.stringify(clean)));
      },
    ),
    { numRuns: 300 },
  );
});
