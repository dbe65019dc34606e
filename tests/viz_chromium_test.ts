/**
 * The browser tests' Chromium: the system's when there is one, else the one
 * inside the npm package `@sparticuz/chromium`; `SWITCHYARD_CHROMIUM`
 * forces either, and a wrong value stops with one line naming it.
 */
import assert from "node:assert/strict";
import { chooseChromium, launchBrowser } from "./helpers/browser.ts";

async function withEnv<T>(value: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = Deno.env.get("SWITCHYARD_CHROMIUM");
  if (value === undefined) Deno.env.delete("SWITCHYARD_CHROMIUM");
  else Deno.env.set("SWITCHYARD_CHROMIUM", value);
  try {
    return await body();
  } finally {
    if (before === undefined) Deno.env.delete("SWITCHYARD_CHROMIUM");
    else Deno.env.set("SWITCHYARD_CHROMIUM", before);
  }
}

Deno.test("SWITCHYARD_CHROMIUM=npm launches the Chromium shipped in @sparticuz/chromium", async () => {
  await withEnv("npm", async () => {
    const choice = await chooseChromium();
    assert.equal(choice.source, "npm");
    assert.ok((await Deno.stat(choice.executablePath)).isFile);
    for (const flag of ["--no-first-run", "--disable-background-networking", "--disable-sync"]) {
      assert.ok(choice.args.includes(flag), flag);
    }
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.setContent("<p id=x>drawn</p>");
      assert.equal(await page.locator("#x").innerText(), "drawn");
    } finally {
      await browser.close();
    }
  });
});

Deno.test("A system Chromium is preferred when installed, and a wrong path fails in one line", async () => {
  const choice = await withEnv(undefined, () => chooseChromium());
  const system = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  const installed = await Promise.all(
    system.map((p) => Deno.stat(p).then((s) => s.isFile, () => false)),
  );
  assert.equal(choice.source, installed.some(Boolean) ? "system" : "npm");
  await withEnv("/nowhere/chromium", async () => {
    const error = await chooseChromium().then(() => null, (e: Error) => e);
    assert.ok(error);
    assert.equal(error.message.includes("\n"), false);
    assert.match(
      error.message,
      /'SWITCHYARD_CHROMIUM' must name a Chromium binary or 'npm': current value is '\/nowhere\/chromium'/,
    );
  });
});
