// Self-hosting without a development server: scripts/self-host.mjs runs the worker bundle on
// workerd through Miniflare with durable local state. The main flow (create app → enroll →
// authenticate → restart → authenticate again) runs against it, plus the static assets a widget
// needs and the production default (no demo app). Always runs its own instance.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EDGE_DIR, ROOT, buildWorker, devVars } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { Edge, assertError, assertOk, request, show } from "./client.mjs";

const F = faces();

/** One scripts/self-host.mjs process on `state` (a fresh port each start). */
class SelfHost {
  constructor(state) {
    this.state = state;
    this.child = null;
    this.url = null;
    this.output = "";
  }

  async start() {
    this.output = "";
    const child = spawn(process.execPath, [
      join(ROOT, "scripts/self-host.mjs"),
      "--secrets", join(EDGE_DIR, ".dev.vars"),
      "--state", this.state,
      // The worker the edge specs built (edge-worker/build): the code `wrangler deploy` bundles;
      // CI's deploy check covers the bundling itself.
      "--bundle", join(EDGE_DIR, "build"),
      "--port", "0",
    ], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const onData = (d) => {
      if (this.output.length < 200_000) this.output += d.toString();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const m = this.output.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        this.url = m[1];
        return;
      }
      if (child.exitCode !== null) throw new Error(`self-host exited (${child.exitCode}): ${this.output}`);
      if (Date.now() > deadline) throw new Error(`self-host did not start: ${this.output}`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once("exit", ok));
    process.kill(-child.pid, "SIGTERM");
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, 10_000);
    await exited;
    clearTimeout(t);
    try {
      process.kill(-child.pid, "SIGKILL"); // workerd children, if any outlived it
    } catch {}
    this.child = null;
  }
}

describe("self-hosted edge (workerd via Miniflare, durable state)", { timeout: 600_000 }, () => {
  const state = mkdtempSync(join(tmpdir(), "openfio-selfhost-"));
  const host = new SelfHost(state);
  let edge;
  let app;
  let a;

  before(async () => {
    buildWorker();
    devVars();
    await host.start();
    edge = new Edge({ url: host.url, adminToken: devVars().ADMIN_TOKEN });
  });
  after(async () => {
    await host.stop();
    rmSync(state, { recursive: true, force: true });
  });

  test("serves the widget's files and FACEIO's health check; no open demo app by default", async () => {
    // The page and a model edge-worker/build.sh puts in www/ (the widget library is built by
    // scripts/build-js.sh, which CI runs later; scripts/ci/deploy-check.sh checks it is shipped).
    for (const path of ["/", "/models/retinaface_mnet025.onnx"]) {
      const res = await fetch(`${host.url}${path}`);
      assert.equal(res.status, 200, `${path}: ${res.status}`);
    }
    assert.equal(assertOk(await request(`${host.url}/status`)).operational, true);
    const demo = await request(`${host.url}/v1/demo/session`, {
      method: "POST", headers: { origin: "https://site.example" }, json: { ceremony: "enroll" },
    });
    assertError(demo, "UNAUTHORIZED");
  });

  test("create app → enroll → authenticate", async () => {
    app = await edge.createApp({ preventDuplicates: true });
    a = assertOk(await app.enroll(F.obama.slice(0, 3), { payload: { who: "A" } }));
    const auth = assertOk(await app.authenticate(F.obama[3]));
    assert.equal(auth.facialId, a.facialId);
    assert.deepEqual(auth.payload, { who: "A" });
    // wrangler.toml's production default: the gallery's bench/test controls do not exist.
    const control = await edge.admin("POST", `/admin/apps/${app.publicId}/gallery/control`, { control: "inspect" });
    assert.equal(control.status, 404, show(control));
  });

  test("after a restart on the same state: authenticate again, nothing lost", async () => {
    const before = host.url;
    await host.stop();
    await host.start();
    edge = new Edge({ url: host.url, adminToken: devVars().ADMIN_TOKEN });
    app.edge = edge;
    assert.ok(host.url, `restarted (was ${before})`);
    const auth = assertOk(await app.authenticate(F.obama[2]));
    assert.equal(auth.facialId, a.facialId);
    assert.deepEqual(auth.payload, { who: "A" });
    assert.equal(assertOk(await app.rest("checkfacialid", { fid: a.facialId })).valid, true);
    // The duplicate check still sees the stored template, and a stranger is still refused.
    const dup = await app.enroll(F.obama.slice(1, 3));
    assertError(dup, "FACE_DUPLICATION");
    const stranger = await app.authenticate(F.biden[0]);
    assertError(stranger, "UNRECOGNIZED_FACE");
    assert.ok(!/TEMPLATE_KEY=|PIN_PEPPER=/.test(host.output), `secrets in the output: ${show({ method: "", url: "", status: 0, text: host.output })}`);
  });
});
