// Per-IP quotas count the client by the header the deployment trusts (CLIENT_IP_HEADER) and
// group IPv6 addresses by /64: headers a client makes up cannot reset its quota.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EdgeInstance, buildWorker, devVars, useEdge } from "./harness.mjs";
import { DEFAULT_ORIGIN, Edge, assertError, assertOk, randomIp, request, show } from "./client.mjs";

/** A wrangler dev instance with CLIENT_IP_HEADER set to `value`. */
class WithIpHeader extends EdgeInstance {
  constructor(value) {
    super({ persistDir: mkdtempSync(join(tmpdir(), "openfio-edge-ip-")), ownsPersistDir: true });
    this.value = value;
  }

  testConfig() {
    const config = super.testConfig();
    const text = readFileSync(config, "utf8");
    const replaced = text.replace(/^CLIENT_IP_HEADER\s*=.*$/m, `CLIENT_IP_HEADER = ${JSON.stringify(this.value)}`);
    assert.notEqual(replaced, text, "wrangler.toml has no CLIENT_IP_HEADER setting");
    writeFileSync(config, replaced);
    return config;
  }
}

const QUOTA = 3;
const session = (edge, app, headers) =>
  request(`${edge.url}/v1/${app.publicId}/session`, {
    method: "POST", headers: { origin: DEFAULT_ORIGIN, ...headers }, json: { ceremony: "enroll" },
  });

/** QUOTA sessions pass, the next is TOO_MANY_REQUESTS, each sent with `headers(i)`. */
async function assertQuotaHolds(edge, app, headers) {
  for (let i = 0; i < QUOTA; i++) assertOk(await session(edge, app, headers(i)), `session ${i}`);
  const res = await session(edge, app, headers(QUOTA));
  assertError(res, "TOO_MANY_REQUESTS");
}

describe("trusted client-IP header", () => {
  test("IPv6 clients are counted per /64", async () => {
    const edge = new Edge(await useEdge());
    const app = await edge.createApp({ ipQuotaPerMinute: QUOTA });
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    await assertQuotaHolds(edge, app, (i) => ({ "cf-connecting-ip": `${prefix}::${(i + 1).toString(16)}` }));
    // Another /64 has its own allowance.
    assertOk(await session(edge, app, { "cf-connecting-ip": `${prefix}1::1` }), "another /64");
  });

  for (const [setting, trusted] of [["x-forwarded-for", (i) => `10.77.0.${i}, 10.99.0.1`], ["none", null]]) {
    test(`CLIENT_IP_HEADER = "${setting}": spoofed headers do not reset the quota`, async () => {
      buildWorker();
      devVars();
      const inst = new WithIpHeader(setting);
      try {
        await inst.start();
        const edge = new Edge({ url: inst.url, adminToken: devVars().ADMIN_TOKEN });
        const app = await edge.createApp({ ipQuotaPerMinute: QUOTA });
        // A fresh CF-Connecting-IP (and, for x-forwarded-for, a fresh first hop) on every request.
        await assertQuotaHolds(edge, app, (i) => ({
          "cf-connecting-ip": randomIp(),
          "true-client-ip": randomIp(),
          ...(trusted ? { "x-forwarded-for": trusted(i) } : { "x-forwarded-for": randomIp() }),
        }));
        if (trusted) {
          // Another address seen by the proxy is another client.
          const other = await session(edge, app, { "x-forwarded-for": `${randomIp()}, 10.99.0.2` });
          assertOk(other, `another proxy-seen address: ${show(other)}`);
        }
      } finally {
        await inst.dispose();
      }
    });
  }
});
