// Validates the OpenAPI document a habtm REST server serves, then opens its explorer in
// headless Chromium: the operations of the seed models are listed, one runs from the
// page, and a screenshot is written.
//
//   node check.mjs http://127.0.0.1:3000 ../../target/explorer.png

import SwaggerParser from "@apidevtools/swagger-parser";
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error("usage: node check.mjs <base URL> <screenshot.png>");
  process.exit(2);
}

function fail(message) {
  console.error(`explorer check: ${message}`);
  process.exit(1);
}

// 1. The document, checked by a validator of the OpenAPI specification.
const document = await (await fetch(`${base}/explorer/openapi.json`)).json();
try {
  await SwaggerParser.validate(structuredClone(document));
} catch (error) {
  fail(`the OpenAPI document is not valid: ${error.message}`);
}
const operations = Object.values(document.paths).flatMap((item) => Object.keys(item));
console.log(`OpenAPI ${document.openapi}: valid, ${operations.length} operations`);

// 2. The explorer in a real browser.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  const failed = [];
  page.on("requestfailed", (request) => failed.push(request.url()));
  await page.goto(`${base}/explorer/`);
  await page.waitForSelector(".opblock", { timeout: 30_000 });
  const listed = await page.locator(".opblock").count();
  if (listed !== operations.length) {
    fail(`the explorer lists ${listed} operations, the document has ${operations.length}`);
  }
  for (const path of ["/Assemblies", "/Assemblies/{id}/parts/rel/{fk}", "/Parts/{id}/assemblies"]) {
    const shown = await page.locator(`.opblock-summary-path[data-path="${path}"]`).count();
    if (shown === 0) {
      fail(`the explorer does not list ${path}`);
    }
  }
  for (const tag of ["Assembly", "Part"]) {
    if ((await page.locator(`.opblock-tag[data-tag="${tag}"]`).count()) === 0) {
      fail(`the explorer has no ${tag} section`);
    }
  }
  // Run one operation from the page: GET /Assemblies answers 200 with a list.
  const find = page
    .locator(".opblock.opblock-get")
    .filter({ has: page.locator('.opblock-summary-path[data-path="/Assemblies"]') })
    .first();
  await find.locator(".opblock-summary").click();
  await find.locator("button.try-out__btn").click();
  await find.locator("button.execute").click();
  const status = find.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor({ timeout: 30_000 });
  const code = (await status.innerText()).trim();
  if (code !== "200") {
    fail(`GET /Assemblies run from the explorer answered ${code}`);
  }
  await find.locator(".opblock-summary").click();
  if (failed.length > 0) {
    fail(`the page could not load ${failed.join(", ")}`);
  }
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(`explorer: ${listed} operations listed, GET /Assemblies ran (200), screenshot ${screenshot}`);
} finally {
  await browser.close();
}
