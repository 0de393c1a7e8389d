// Required secrets: a deployment without TEMPLATE_KEY, PIN_PEPPER or ADMIN_TOKEN refuses to serve
// (503, a JSON body naming what is missing) instead of hashing PINs without pepper or running
// without an operator token. Starts its own wrangler instances with a reduced .dev.vars.

import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EdgeInstance, buildWorker, devVars } from "./harness.mjs";
import { request, show } from "./client.mjs";

/** A wrangler dev instance whose .dev.vars lacks `omit`. */
class ReducedSecrets extends EdgeInstance {
  constructor(omit) {
    super({ persistDir: mkdtempSync(join(tmpdir(), "openfio-edge-secrets-")), ownsPersistDir: true });
    this.omit = omit;
  }

  testConfig() {
    const config = super.testConfig();
    const vars = Object.entries(devVars()).filter(([k]) => !this.omit.includes(k));
    writeFileSync(join(this.persistDir, ".dev.vars"), vars.map(([k, v]) => `${k}=${v}\n`).join(""));
    return config;
  }
}

/** Every kind of route answers 503 naming each omitted secret. */
async function check(edge, omit) {
  const token = devVars().ADMIN_TOKEN;
  const calls = [
    request(`${edge.url}/health`),
    // FACEIO's health check must report the broken deployment, not "operational".
    request(`${edge.url}/status`),
    request(`${edge.url}/v1/demo/session`, {
      method: "POST", headers: { origin: "https://app.example.test" }, json: { ceremony: "enroll" },
    }),
    request(`${edge.url}/admin/apps`, {
      method: "POST", headers: { authorization: `Bearer ${token}` }, json: { name: "x" },
    }),
    request(`${edge.url}/appstats?key=demo.0123`),
  ];
  for (const res of await Promise.all(calls)) {
    assert.equal(res.status, 503, `expected 503: ${show(res)}`);
    assert.equal(res.body?.error, "PROCESSING_ERR", show(res));
    for (const name of omit) assert.ok(res.body.message.includes(name), `message does not name ${name}: ${show(res)}`);
  }
}

describe("required secrets", () => {
  for (const omit of [["PIN_PEPPER"], ["TEMPLATE_KEY", "ADMIN_TOKEN"]]) {
    test(`without ${omit.join(" and ")} every route answers 503 naming it`, async () => {
      buildWorker();
      const edge = new ReducedSecrets(omit);
      try {
        await edge.start();
        await check(edge, omit);
      } finally {
        await edge.dispose();
      }
    });
  }
});
