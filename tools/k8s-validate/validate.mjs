// Validates one rendered overlay of deploy/k8s (the output of `kubectl
// kustomize`) in three passes, and exits non-zero naming every problem:
//
//   1. schema: each object against its Kubernetes (or prometheus-operator)
//      JSON schema, from the npm kubernetes-models packages: types, enums,
//      required fields, formats;
//   2. fields: each object typed as its TypeScript interface from the same
//      packages and compiled with tsc, which rejects unknown fields (a typo
//      such as `readinessprobe` that the schemas let through);
//   3. eid: what the cluster needs to work, checked against the code: eidd
//      flags (services/eidd/main.cc), roles and their callers
//      (services/eidd/roles.cc), the shard list, probes, security context,
//      autoscalers, disruption budgets, network policies, Secrets, the
//      ServiceMonitor, the PrometheusRule (= deploy/prometheus/alerts.yml)
//      and the Grafana dashboard.
//
// Usage:
//   node validate.mjs --node_modules DIR --repo DIR --overlay base|dev|prod
//       [--shards N] [--mutate NAME] RENDERED.yaml
// --repo is the source tree (main.cc, roles.cc, alerts.yml are read from
// it). --mutate breaks the objects on purpose before checking (the test
// uses it to prove each pass can fail); names: see MUTATIONS below. Exit
// status: 0 valid, 1 problems found, 2 usage.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import util from "node:util";

const { values: opts, positionals } = util.parseArgs({
  options: {
    node_modules: { type: "string" },
    repo: { type: "string" },
    overlay: { type: "string" },
    shards: { type: "string" },
    mutate: { type: "string" },
  },
  allowPositionals: true,
});
if (!opts.node_modules || !opts.repo || !opts.overlay || positionals.length !== 1) {
  console.error("usage: validate.mjs --node_modules DIR --repo DIR --overlay NAME [--shards N] [--mutate NAME] FILE");
  process.exit(2);
}
const nm = path.resolve(opts.node_modules);
const load = (spec) => import(pathToFileURL(path.join(nm, spec)).href);
const YAML = await load("yaml/dist/index.js");

const errors = [];
const fail = (where, msg) => errors.push(`${where}: ${msg}`);
const id = (o) => `${o?.kind}/${o?.metadata?.name}`;

const docs = YAML.parseAllDocuments(fs.readFileSync(positionals[0], "utf8"));
let objects = [];
for (const d of docs) {
  if (d.errors.length) fail("yaml", d.errors.map((e) => e.message).join("; "));
  const o = d.toJS();
  if (o) objects.push(o);
}

// ---- Mutations: each breaks one thing a pass must catch. ----------------
const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
const eidd = (o) => o.spec.template.spec.containers.find((c) => c.name === "eidd");
const MUTATIONS = {
  // pass 2: a misspelt field.
  "unknown-field": () => { eidd(find("Deployment", "verification")).readinessprobe = {}; },
  // pass 1: a port as a word.
  "bad-type": () => { eidd(find("Deployment", "qr")).ports[0].containerPort = "grpc"; },
  // pass 3: a flag eidd does not have.
  "unknown-flag": () => { eidd(find("Deployment", "otp")).args.push("--grpc_port=7443"); },
  // pass 3: more shards than the list names.
  "shard-count": () => { find("StatefulSet", "shard").spec.replicas += 1; },
  // pass 3: a caller the network policies no longer let through.
  "missing-egress": () => {
    objects = objects.filter((o) => !(o.kind === "NetworkPolicy" && o.metadata.name === "verification-egress"));
  },
  // pass 3: a service that no longer knows where the services it calls are.
  "missing-peers": () => {
    const c = eidd(find("Deployment", "activation"));
    c.args = c.args.filter((a) => !a.startsWith("--peers="));
  },
  // pass 3: alerts.yml and the PrometheusRule drifting apart.
  "rule-drift": () => { find("PrometheusRule", "eid").spec.groups[1].rules[0].for = "1m"; },
  // pass 3: a service without mutual TLS.
  "no-tls": () => {
    const c = eidd(find("Deployment", "otp"));
    c.args = c.args.filter((a) => !a.startsWith("--tls_key="));
  },
  // pass 3: a probe on the TLS port (the kubelet has no certificate).
  "probe-on-tls-port": () => { eidd(find("Deployment", "qr")).readinessProbe.grpc.port = 7443; },
  // pass 3: a role that no longer mounts a key its code reads.
  "missing-secret": () => {
    const v = find("Deployment", "qr").spec.template.spec.volumes.find((x) => x.name === "keys-secret");
    v.secret.items = v.secret.items.filter((i) => i.key !== "qr_signing_seed");
  },
  // pass 3 (prod): codes written to a file instead of sent.
  "outbox-in-prod": () => { find("ConfigMap", "eid-config").data.sms_transport = "outbox"; },
  // pass 3 (prod): delivery reports asked for, but no way in for them.
  "dlr-port-closed": () => {
    const n = find("NetworkPolicy", "otp-ingress");
    n.spec.ingress = n.spec.ingress.filter((r) => !r.ports.some((p) => p.port === 7445));
  },
  // pass 3: a container allowed to write its root filesystem.
  "writable-root": () => { eidd(find("StatefulSet", "shard")).securityContext.readOnlyRootFilesystem = false; },
};
if (opts.mutate) {
  if (!MUTATIONS[opts.mutate]) { console.error(`unknown mutation ${opts.mutate}`); process.exit(2); }
  MUTATIONS[opts.mutate]();
}

// ---- Pass 1: schemas -----------------------------------------------------
function modelSpec(o) {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  if (group === "monitoring.coreos.com") {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`;
  }
  return `kubernetes-models/${group ? group + "/" : ""}${version}/${o.kind}`;
}
for (const o of objects) {
  if (!o.apiVersion || !o.kind) { fail(id(o), "no apiVersion or kind"); continue; }
  const spec = modelSpec(o);
  let mod;
  try {
    mod = await load(spec + ".js");
  } catch {
    fail(id(o), `no schema for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    const copy = structuredClone(o);
    // kustomize writes long Secret data as a multi-line block; the API
    // server's base64 decoder skips the newlines, the schema's "byte"
    // format does not.
    if (o.kind === "Secret" && copy.data) {
      for (const k of Object.keys(copy.data)) copy.data[k] = copy.data[k].replace(/\n/g, "");
    }
    new mod[o.kind](copy).validate();
  } catch (e) {
    fail(id(o), `schema: ${e.message}`);
  }
}

// ---- Pass 2: unknown fields (tsc excess-property checks) -----------------
// The slow pass (a TypeScript compile): a mutation aimed at another pass
// skips it.
if (!opts.mutate || ["unknown-field", "bad-type"].includes(opts.mutate)) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-validate-"));
  try {
    fs.symlinkSync(nm, path.join(dir, "node_modules"));
    const lines = [];
    const owner = []; // line number (1-based) -> object id
    objects.forEach((o, i) => {
      if (!o.apiVersion || !o.kind) return;
      const spec = modelSpec(o);
      const body = JSON.stringify(o, null, 1).split("\n");
      lines.push(`import type { I${o.kind} as T${i} } from "${spec}";`);
      owner.push(id(o));
      lines.push(`export const o${i}: T${i} = ${body[0]}`);
      owner.push(id(o));
      for (const l of body.slice(1)) { lines.push(l); owner.push(id(o)); }
      lines.push(";");
      owner.push(id(o));
    });
    fs.writeFileSync(path.join(dir, "objects.ts"), lines.join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, module: "esnext", moduleResolution: "bundler",
        target: "es2022", skipLibCheck: true, types: [],
      },
      files: ["objects.ts"],
    }));
    try {
      execFileSync(process.execPath, [path.join(nm, "typescript/bin/tsc"), "-p", dir],
                   { cwd: dir, encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      const out = (e.stdout || "") + (e.stderr || "");
      const re = /objects\.ts\((\d+),\d+\): error TS\d+: (.*)/g;
      let m, any = false;
      while ((m = re.exec(out)) !== null) {
        any = true;
        fail(owner[Number(m[1]) - 1] ?? "?", `field: ${m[2]} (line: ${lines[Number(m[1]) - 1].trim()})`);
      }
      if (!any) fail("tsc", out.trim() || String(e));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Pass 3: eid ---------------------------------------------------------
const read = (rel) => fs.readFileSync(path.join(opts.repo, rel), "utf8");
const mainCc = read("services/eidd/main.cc");
const flags = new Set([...mainCc.matchAll(/ABSL_FLAG\(\s*[\w:]+(?:<[^>]*>)?\s*,\s*(\w+)/g)].map((m) => m[1]));
const rolesCc = read("services/eidd/roles.cc");
const needs = {}; // role -> roles it calls
for (const m of rolesCc.matchAll(/\{"(\w+)",\s*"[^"]*",\s*\{([^}]*)\}/g)) {
  needs[m[1]] = [...m[2].matchAll(/"(\w+)"/g)].map((x) => x[1]);
}
const roles = Object.keys(needs);
// role -> the files it reads from --keys_dir (Role::secrets, the fourth
// field of the same table; services/eidd refuses a role any other).
const reads = {};
for (const m of rolesCc.matchAll(/\{"(\w+)",\s*"[^"]*",\s*\{[^}]*\},\s*\{([^}]*)\}/g)) {
  reads[m[1]] = [...m[2].matchAll(/"(\w+)"/g)].map((x) => x[1]);
}
if (roles.some((r) => !reads[r])) fail("repo", `cannot read every role's secrets from services/eidd/roles.cc (${Object.keys(reads)})`);
if (flags.size < 5 || roles.length < 5) fail("repo", `cannot read flags (${[...flags]}) or roles (${roles}) from the code`);
const roleService = {
  shard: "eid.v1.ShardService", audit: "eid.v1.AuditService", otp: "eid.v1.OtpService",
  activation: "eid.v1.ActivationService", qr: "eid.v1.QrService",
  verification: "eid.v1.VerificationService", reports: "eid.v1.ReportsService",
};
for (const r of roles) if (!roleService[r]) fail("validate.mjs", `role ${r} has no gRPC service name here`);

const of = (kind) => objects.filter((o) => o.kind === kind);
const workloads = [...of("Deployment"), ...of("StatefulSet")];
const matches = (selector, labels) =>
  !!selector && Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
  (selector.matchExpressions ?? []).every((e) =>
    e.operator === "In" ? e.values.includes(labels?.[e.key]) :
    e.operator === "NotIn" ? !e.values.includes(labels?.[e.key]) :
    e.operator === "Exists" ? labels?.[e.key] !== undefined : labels?.[e.key] === undefined);
const podLabels = (w) => w.spec.template.metadata.labels;
const roleOf = (w) => podLabels(w)["app.kubernetes.io/component"];
const argMap = (c) => Object.fromEntries((c.args ?? []).map((a) => {
  const m = /^--([\w]+)(?:=(.*))?$/.exec(a);
  return m ? [m[1], m[2] ?? ""] : [a, undefined];
}));

// Names unique; one namespace in overlays.
{
  const seen = new Set();
  for (const o of objects) {
    if (seen.has(id(o))) fail(id(o), "defined twice");
    seen.add(id(o));
  }
  const ns = of("Namespace");
  if (opts.overlay !== "base") {
    if (ns.length !== 1) fail("Namespace", `overlay ${opts.overlay} must define exactly one Namespace`);
    else for (const o of objects) {
      if (o.kind !== "Namespace" && o.metadata.namespace !== ns[0].metadata.name) {
        fail(id(o), `namespace ${o.metadata.namespace}, not ${ns[0].metadata.name}`);
      }
    }
  }
}

const config = find("ConfigMap", "eid-config");
const secrets = Object.fromEntries(of("Secret").map((s) => [s.metadata.name, s]));
const externalSecret = (name) => /^eid-(keys|kannel|tls-\w+)$/.test(name);

for (const w of workloads) {
  const where = id(w);
  const pod = w.spec.template.spec;
  const role = roleOf(w);
  if (!roles.includes(role)) fail(where, `component label "${role}" is not a role`);
  if (!matches(w.spec.selector, podLabels(w))) fail(where, "selector does not match its pod labels");
  const psc = pod.securityContext ?? {};
  if (psc.runAsNonRoot !== true || !(psc.runAsUser > 0)) fail(where, "pod must set runAsNonRoot and a non-zero runAsUser");
  if (psc.seccompProfile?.type !== "RuntimeDefault") fail(where, "pod seccompProfile must be RuntimeDefault");
  if (pod.automountServiceAccountToken !== false) fail(where, "automountServiceAccountToken must be false");
  if (!find("ServiceAccount", pod.serviceAccountName)) fail(where, `no ServiceAccount ${pod.serviceAccountName}`);

  const volumes = new Set([...(pod.volumes ?? []).map((v) => v.name),
                           ...(w.spec.volumeClaimTemplates ?? []).map((v) => v.metadata.name)]);
  for (const v of pod.volumes ?? []) {
    if (v.secret) {
      const s = secrets[v.secret.secretName];
      if (!s && !(opts.overlay === "prod" && externalSecret(v.secret.secretName))) {
        fail(where, `volume ${v.name}: no Secret ${v.secret.secretName}`);
      }
      for (const item of v.secret.items ?? []) {
        const keys = { ...(s?.data ?? {}), ...(s?.stringData ?? {}) };
        if (s && !(item.key in keys)) fail(where, `volume ${v.name}: Secret ${s.metadata.name} has no ${item.key}`);
      }
    }
  }
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const cw = `${where} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) fail(cw, "readOnlyRootFilesystem must be true");
    if (sc.allowPrivilegeEscalation !== false) fail(cw, "allowPrivilegeEscalation must be false");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(cw, "capabilities must drop ALL");
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) {
      fail(cw, "needs cpu and memory requests and a memory limit");
    }
    if (opts.overlay !== "base" && (!/:[\w.-]+$|@sha256:/.test(c.image) || /:latest$/.test(c.image))) {
      fail(cw, `image ${c.image} must be pinned to a tag or digest`);
    }
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) fail(cw, `mounts unknown volume ${m.name}`);
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.configMapKeyRef;
      if (ref) {
        const cm = find("ConfigMap", ref.name);
        if (!cm || !(ref.key in (cm.data ?? {}))) fail(cw, `env ${e.name}: no ConfigMap key ${ref.name}/${ref.key}`);
      }
    }
    const envNames = new Set((c.env ?? []).map((e) => e.name));
    for (const a of [...(c.args ?? []), ...(c.command ?? [])]) {
      for (const m of a.matchAll(/\$\((\w+)\)/g)) if (!envNames.has(m[1])) fail(cw, `${a}: $(${m[1]}) is not in env`);
    }
  }

  const c = eidd(w);
  if (!c) { fail(where, "no container named eidd"); continue; }
  const args = argMap(c);
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined) fail(where, `argument ${name} is not --flag=value`);
    else if (!flags.has(name)) fail(where, `eidd has no flag --${name} (services/eidd/main.cc)`);
  }
  if (args.services !== role) fail(where, `--services=${args.services}, expected ${role}`);
  if (args.generate_dev_keys !== undefined) fail(where, "--generate_dev_keys is for development machines only");
  const grpcPort = c.ports?.find((p) => p.name === "grpc")?.containerPort;
  const metricsPort = c.ports?.find((p) => p.name === "metrics")?.containerPort;
  if (!grpcPort || !metricsPort) fail(where, "eidd needs ports named grpc and metrics");
  if (args.grpc_address !== `0.0.0.0:${grpcPort}`) fail(where, `--grpc_address must listen on all interfaces, port ${grpcPort}`);
  if (args.metrics_address !== `0.0.0.0:${metricsPort}`) fail(where, `--metrics_address must listen on all interfaces, port ${metricsPort}`);
  // Mutual TLS between every pair of services: all three files, from the
  // memory volume the init container fills (a Secret volume is group
  // readable, and eidd refuses such a key), and this role's own Secret.
  for (const f of ["tls_ca", "tls_cert", "tls_key"]) {
    if (!args[f]) fail(where, `needs --${f} (mutual TLS between services)`);
    else if (!c.volumeMounts?.some((m) => args[f].startsWith(m.mountPath + "/"))) {
      fail(where, `--${f} ${args[f]} is not on a mounted volume`);
    }
  }
  const tlsSecret = (pod.volumes ?? []).find((v) => v.secret && /^eid-tls-/.test(v.secret.secretName));
  if (tlsSecret && tlsSecret.secret.secretName !== `eid-tls-${role}`) {
    fail(where, `mounts ${tlsSecret.secret.secretName}, not its own eid-tls-${role}`);
  }
  // The kubelet's gRPC probes carry no client certificate: they ask the
  // plaintext health-only port.
  const healthPort = c.ports?.find((p) => p.name === "health")?.containerPort;
  if (!healthPort) fail(where, "eidd needs a port named health (probes under mutual TLS)");
  else if (args.health_address !== `0.0.0.0:${healthPort}`) {
    fail(where, `--health_address must listen on all interfaces, port ${healthPort}`);
  }
  for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
    if (probe === "startupProbe" && !c[probe]) continue;
    if (c[probe]?.grpc?.port !== healthPort) fail(where, `${probe} must be a gRPC probe on the health port ${healthPort}`);
  }
  if (c.readinessProbe?.grpc?.service !== roleService[role]) {
    fail(where, `readinessProbe must ask for ${roleService[role]}`);
  }
  // Roles that use storage get the shard list; keys only where they are read.
  if (needs[role]?.includes("shard") && args.shards !== "$(EID_SHARDS)") fail(where, "needs --shards=$(EID_SHARDS)");
  // Roles that call other services find them through the shared peer list.
  const calls = (needs[role] ?? []).filter((r) => r !== "shard");
  if (calls.length > 0 && args.peers !== "$(EID_PEERS)") fail(where, "needs --peers=$(EID_PEERS)");
  const peers = Object.fromEntries((config?.data?.peers ?? "").split(",").filter(Boolean).map((p) => p.split("=")));
  for (const callee of calls) {
    if (peers[callee] !== `${callee}:7443`) fail("ConfigMap/eid-config", `peers must list ${callee}=${callee}:7443`);
  }
  if (args.keys_dir !== undefined && !c.volumeMounts?.some((m) => m.mountPath === args.keys_dir)) {
    fail(where, `--keys_dir ${args.keys_dir} is not mounted`);
  }
  // The eid-keys items it mounts are exactly the files its code reads: one
  // missing and the role fails at start; one more is a key it has no use for.
  {
    const want = reads[role] ?? [];
    const keyVolumes = (pod.volumes ?? []).filter((v) => v.secret?.secretName === "eid-keys");
    if (keyVolumes.some((v) => !v.secret.items)) fail(where, "mounts all of eid-keys: list the items it reads");
    const mounted = keyVolumes.flatMap((v) => (v.secret.items ?? []).map((i) => i.key));
    for (const k of want) {
      if (!mounted.includes(k)) fail(where, `${role} reads ${k} (services/eidd/roles.cc) but does not mount it from eid-keys`);
    }
    for (const k of mounted) {
      if (!want.includes(k)) fail(where, `mounts eid-keys item ${k}, which ${role} never reads`);
    }
    if (want.length > 0 && args.keys_dir === undefined) fail(where, `${role} reads secret files: needs --keys_dir`);
  }
  if (!c.volumeMounts?.some((m) => m.mountPath === args.data_dir)) fail(where, `--data_dir ${args.data_dir} is not a volume`);

  // Autoscaling and disruption budgets.
  const pdbs = of("PodDisruptionBudget").filter((p) => matches(p.spec.selector, podLabels(w)));
  if (pdbs.length !== 1) fail(where, `needs exactly one PodDisruptionBudget, has ${pdbs.length}`);
  if (w.kind === "Deployment") {
    if (w.spec.replicas !== undefined) fail(where, "replicas must be left to the HorizontalPodAutoscaler");
    const hpas = of("HorizontalPodAutoscaler").filter((h) =>
      h.spec.scaleTargetRef.kind === "Deployment" && h.spec.scaleTargetRef.name === w.metadata.name);
    if (hpas.length !== 1) fail(where, `needs exactly one HorizontalPodAutoscaler, has ${hpas.length}`);
    else if (!(hpas[0].spec.minReplicas >= 1 && hpas[0].spec.minReplicas <= hpas[0].spec.maxReplicas)) {
      fail(id(hpas[0]), "minReplicas must be 1..maxReplicas");
    }
  } else {
    const svc = find("Service", w.spec.serviceName);
    if (!svc) fail(where, `serviceName ${w.spec.serviceName}: no such Service`);
    if (!(w.spec.volumeClaimTemplates ?? []).some((v) => c.volumeMounts?.some((m) => m.name === v.metadata.name && m.mountPath === args.data_dir))) {
      fail(where, "--data_dir must be on a volume claim");
    }
  }
}
for (const h of of("HorizontalPodAutoscaler")) {
  if (!find(h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name)) fail(id(h), "scales nothing");
}

// Every role runs, once.
for (const r of roles) {
  const ws = workloads.filter((w) => roleOf(w) === r);
  if (ws.length !== 1) fail(`role ${r}`, `${ws.length} workloads run it, expected 1`);
}

// The shards.
{
  const sts = find("StatefulSet", "shard");
  const list = (config?.data?.shards ?? "").split(",").filter(Boolean);
  if (!sts) fail("StatefulSet/shard", "missing");
  else {
    const svc = find("Service", sts.spec.serviceName);
    if (svc?.spec?.clusterIP !== "None") fail(id(sts), "its Service must be headless (clusterIP: None)");
    const port = eidd(sts).ports.find((p) => p.name === "grpc").containerPort;
    if (sts.spec.replicas !== list.length) {
      fail(id(sts), `replicas ${sts.spec.replicas} but eid-config lists ${list.length} shards`);
    }
    list.forEach((entry, i) => {
      const want = `${sts.metadata.name}-${i}.${sts.spec.serviceName}:${port}`;
      if (entry !== want) fail("ConfigMap/eid-config", `shard ${i} is ${entry}, expected ${want}`);
    });
    if (opts.shards && sts.spec.replicas !== Number(opts.shards)) {
      fail(id(sts), `${opts.overlay} must run ${opts.shards} shards, runs ${sts.spec.replicas}`);
    }
    const c = eidd(sts);
    if (argMap(c).shard_id !== "$(SHARD_ID)" ||
        c.env?.find((e) => e.name === "SHARD_ID")?.valueFrom?.fieldRef?.fieldPath !==
          "metadata.labels['apps.kubernetes.io/pod-index']") {
      fail(id(sts), "--shard_id must come from the pod index");
    }
    const aa = sts.spec.template.spec.affinity?.podAntiAffinity;
    const terms = [...(aa?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
                   ...(aa?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm)];
    if (!terms.some((t) => t.topologyKey === "kubernetes.io/hostname" && matches(t.labelSelector, podLabels(sts)))) {
      fail(id(sts), "needs pod anti-affinity between shards per node");
    }
    if (opts.overlay === "prod" && !(aa?.requiredDuringSchedulingIgnoredDuringExecution?.length)) {
      fail(id(sts), "prod: anti-affinity must be required");
    }
  }
}

// Services point at pods and ports that exist.
for (const s of of("Service")) {
  const ws = workloads.filter((w) => matches({ matchLabels: s.spec.selector }, podLabels(w)));
  if (ws.length !== 1) { fail(id(s), `selects ${ws.length} workloads`); continue; }
  for (const p of s.spec.ports) {
    if (!eidd(ws[0]).ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort)) {
      fail(id(s), `targetPort ${p.targetPort} is not a container port`);
    }
  }
}

// Network policies: default deny, then each caller of each role both ways.
{
  const nps = of("NetworkPolicy");
  const denyAll = nps.some((n) => Object.keys(n.spec.podSelector ?? {}).length === 0 &&
    ["Ingress", "Egress"].every((t) => n.spec.policyTypes?.includes(t)) && !n.spec.ingress && !n.spec.egress);
  if (!denyAll) fail("NetworkPolicy", "needs a default deny of ingress and egress for every pod");
  const podOf = (role) => workloads.find((w) => roleOf(w) === role);
  const portOk = (rule, port) => !rule.ports || rule.ports.some((p) => p.port === port);
  const allows = (from, to, port) => {
    const fl = podLabels(from), tl = podLabels(to);
    const ingress = nps.some((n) => matches(n.spec.podSelector, tl) && (n.spec.ingress ?? []).some((r) =>
      portOk(r, port) && (r.from ?? []).some((p) => !p.namespaceSelector && !p.ipBlock && matches(p.podSelector, fl))));
    const egress = nps.some((n) => matches(n.spec.podSelector, fl) && (n.spec.egress ?? []).some((r) =>
      portOk(r, port) && (r.to ?? []).some((p) => !p.namespaceSelector && !p.ipBlock && matches(p.podSelector, tl))));
    return { ingress, egress };
  };
  for (const [role, callees] of Object.entries(needs)) {
    for (const callee of callees) {
      const a = podOf(role), b = podOf(callee);
      if (!a || !b) continue;
      const port = eidd(b).ports.find((p) => p.name === "grpc").containerPort;
      const { ingress, egress } = allows(a, b, port);
      if (!ingress) fail("NetworkPolicy", `${callee} does not admit its caller ${role} on ${port}`);
      if (!egress) fail("NetworkPolicy", `${role} may not reach ${callee} on ${port}`);
    }
  }
  for (const w of workloads) {
    const scraped = nps.some((n) => matches(n.spec.podSelector, podLabels(w)) && (n.spec.ingress ?? []).some((r) =>
      portOk(r, eidd(w).ports.find((p) => p.name === "metrics").containerPort) &&
      (r.from ?? []).some((p) => p.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "prometheus")));
    if (!scraped) fail(id(w), "Prometheus may not scrape its metrics port");
  }
  const dns = nps.some((n) => Object.keys(n.spec.podSelector ?? {}).length === 0 &&
    (n.spec.egress ?? []).some((r) => (r.ports ?? []).some((p) => p.port === 53)));
  if (!dns) fail("NetworkPolicy", "pods may not resolve names (egress to port 53)");
}

// The otp role's SMS gateway: prod sends through Kannel, never to the outbox
// file; delivery reports have a port, a Service port and a way in.
{
  const w = workloads.find((x) => roleOf(x) === "otp");
  const c = w && eidd(w);
  if (c) {
    const where = id(w);
    // A flag's value with $(VAR)s taken from the ConfigMap keys they name.
    const fromConfig = (value) => (value ?? "").replace(/\$\((\w+)\)/g, (_, name) => {
      const ref = (c.env ?? []).find((e) => e.name === name)?.valueFrom?.configMapKeyRef;
      return ref ? find("ConfigMap", ref.name)?.data?.[ref.key] ?? "" : "";
    });
    const args = argMap(c);
    const transport = fromConfig(args.sms_transport) || "outbox";
    if (opts.overlay === "prod" && transport !== "kannel") {
      fail(where, `prod must send SMS through Kannel, not sms_transport=${transport}`);
    }
    const dlr = fromConfig(args.sms_dlr_address);
    if (transport !== "kannel" && dlr) fail(where, "--sms_dlr_address needs sms_transport=kannel");
    if (transport === "kannel") {
      const portOf = (address) => Number(/:(\d+)$/.exec(address)?.[1]);
      const sendsms = portOf(fromConfig(args.kannel_address));
      if (!sendsms) fail(where, "--kannel_address must be host:port");
      const nps = of("NetworkPolicy");
      const admits = (kind, port) => nps.some((n) => matches(n.spec.podSelector, podLabels(w)) &&
        (n.spec[kind] ?? []).some((r) => (r.ports ?? []).some((p) => p.port === port)));
      if (!admits("egress", sendsms)) fail("NetworkPolicy", `otp may not reach Kannel's sendsms on ${sendsms}`);
      if (dlr) {
        const port = portOf(dlr);
        if (c.ports?.find((p) => p.name === "sms-dlr")?.containerPort !== port) {
          fail(where, `needs a port named sms-dlr, ${port} (--sms_dlr_address)`);
        }
        if (!find("Service", "otp")?.spec.ports.some((p) => p.targetPort === "sms-dlr" && p.port === port)) {
          fail("Service/otp", `needs port ${port} to sms-dlr: Kannel calls it back`);
        }
        if (!admits("ingress", port)) fail("NetworkPolicy", `Kannel's delivery reports may not reach otp on ${port}`);
        const url = fromConfig(args.sms_dlr_url);
        if (!new RegExp(`^http://otp\\.[\\w.-]+:${port}/`).test(url)) {
          fail(where, `--sms_dlr_url ${url} must be the otp Service's sms-dlr port`);
        }
      }
    }
  }
}

// Secrets: placeholders in base, generated dev-only values in dev, none in prod.
for (const s of of("Secret")) {
  if (opts.overlay === "prod") fail(id(s), "prod must not ship Secrets (they are created out of band)");
  if (opts.overlay === "dev") {
    const values = { ...(s.stringData ?? {}) };
    for (const [k, v] of Object.entries(s.data ?? {})) values[k] = Buffer.from(v, "base64").toString("latin1");
    for (const [k, v] of Object.entries(values)) {
      // Empty means "none": a second key only while one is rotated.
      if (s.metadata.name === "eid-keys" && k.endsWith("_accepted") && v === "") continue;
      if (v.includes("REPLACE_ME")) fail(id(s), `${k} is still a placeholder`);
      if (s.metadata.name === "eid-keys" && v.length < 32) fail(id(s), `${k} is shorter than 32 bytes`);
      if (s.metadata.name === "eid-keys" && !v.startsWith("DEV-ONLY")) fail(id(s), `${k} must be marked DEV-ONLY`);
    }
  }
}

// Monitoring.
{
  const sm = find("ServiceMonitor", "eid");
  if (!sm) fail("ServiceMonitor/eid", "missing");
  else {
    for (const s of of("Service")) {
      const port = sm.spec.endpoints[0].port;
      if (!matches(sm.spec.selector, s.metadata.labels)) fail(id(s), "is not selected by the ServiceMonitor");
      else if (!s.spec.ports.some((p) => p.name === port)) fail(id(s), `has no port ${port} to scrape`);
    }
  }
  const rule = find("PrometheusRule", "eid");
  const alerts = YAML.parse(read("deploy/prometheus/alerts.yml"));
  if (!rule) fail("PrometheusRule/eid", "missing");
  else if (!util.isDeepStrictEqual(rule.spec, { groups: alerts.groups })) {
    fail(id(rule), "differs from deploy/prometheus/alerts.yml: run deploy/prometheus/gen_prometheusrule.sh");
  }
  const dash = find("ConfigMap", "eid-grafana-dashboard");
  if (!dash) fail("ConfigMap/eid-grafana-dashboard", "missing");
  else {
    if (dash.metadata.labels?.grafana_dashboard !== "1") fail(id(dash), "needs label grafana_dashboard=1");
    try {
      const d = JSON.parse(dash.data["eid-dashboard.json"]);
      if (!d.uid || !d.title || !Array.isArray(d.panels)) fail(id(dash), "dashboard needs uid, title, panels");
      const ids = new Set();
      for (const p of d.panels) {
        if (ids.has(p.id)) fail(id(dash), `panel id ${p.id} twice`);
        ids.add(p.id);
        if (p.type !== "row" && !(p.targets ?? []).every((t) => t.expr?.trim())) fail(id(dash), `panel "${p.title}" has an empty query`);
      }
      // Every alert has a panel that shows what it watches.
      const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join("\n");
      for (const m of ["grpc_server_errors", "grpc_server_handling_seconds", "eid_verification_verdicts_total",
                       "otp_sms_send_failures_total", "otp_sms_queue_depth", 'up{job="shard"',
                       "audit_client_spool_events", "audit_client_send_failures_total", "rocksdb_write_stall"]) {
        if (!exprs.includes(m)) fail(id(dash), `no panel shows ${m}`);
      }
    } catch (e) {
      fail(id(dash), `dashboard JSON: ${e.message}`);
    }
  }
}

const kinds = {};
for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
const summary = Object.entries(kinds).sort().map(([k, n]) => `${n} ${k}`).join(", ");
if (errors.length) {
  console.log(`${opts.overlay}${opts.mutate ? ` (mutated: ${opts.mutate})` : ""}: ${errors.length} problem(s) in ${objects.length} objects`);
  for (const e of errors) console.log(`  ${e}`);
  process.exit(1);
}
console.log(`${opts.overlay}: ${objects.length} objects valid (${summary})`);
