/**
 * The web console in a real browser (Debian's Chromium), served by a real gateway, on real Redis and
 * real workers on the scripted model: a desk member signs in with the link `freehold dev` prints,
 * sees the item a run hands over arrive, claims it (from the keyboard), and a second member's claim
 * is refused in plain words; she hands it back with a note and the run completes on its timeline.
 * The queue's SLA left; an approver approves and rejects, the person who started a run told before
 * the click why they cannot; runs listed and filtered (agent, status, who, since when), a run's
 * timeline followed live; every step of the handoffs example on its timeline; the agents with what
 * they use and how busy they are; a queue of 10,000 (times printed); a member of another tenant sees
 * none of it. axe-core finds no serious or critical violation on any screen.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildConsole, consoleDirectory } from "@freehold/console";
import { compareAndWrite, inboxItemEffects } from "@freehold/handoff";
import type { ModelScriptInput } from "@freehold/models";
import { createClient, type FreeholdClient } from "@freehold/sdk/client";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, waitForStatus, world, type Harness } from "../../packages/gateway/test/harness.ts";
import { axeViolations, launchChromium } from "../fixtures/browser.ts";
import { startCounterServer, type CounterServer } from "../fixtures/mcp/counter-server.ts";

let harness: Harness;
let counter: CounterServer;
let browser: Browser;

beforeAll(async () => {
  await buildConsole();
  harness = await startHarness({
    // eve is a member of another tenant (globex) and of nothing here.
    people: { eve: ["globex-team"] },
    policy: {
      bindings: [
        { namespace: "*", role: "admin", subjects: [{ group: "testers" }] },
        { namespace: "globex", role: "member", subjects: [{ group: "globex-team" }] },
      ],
    },
    gateway: { console: { directory: consoleDirectory } },
  });
  counter = await startCounterServer({ transport: "http" });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser.close();
  await harness.close();
  await counter.close();
});

function clientOf(user: string): FreeholdClient {
  return createClient({ url: harness.url, token: harness.tokens.get(user) ?? "" });
}

/** A page of its own (its own storage) signed in as `user` through the link with the token. */
async function signedIn(user: string, namespace: string, screen: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // An action that cannot happen fails in seconds, naming what it waited for.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    // A refusal the page shows (an API answer 4xx) is the browser's console line too; nothing else is.
    if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) problems.push(message.text());
  });
  await page.goto(`${harness.url}/#token=${harness.tokens.get(user) ?? ""}`);
  // The token left the address bar as soon as the page read it.
  await expect.poll(() => page.url()).not.toContain("token=");
  const field = page.getByLabel("Namespace");
  await field.fill(namespace);
  await field.blur();
  await page.goto(`${harness.url}/#/${screen}`);
  expect(problems).toEqual([]);
  return page;
}

/**
 * With FREEHOLD_SCREENSHOTS=<folder>, the screens the README shows are saved there (as
 * packages/console/screenshots/ holds them): `FREEHOLD_SCREENSHOTS=packages/console/screenshots
 * pnpm exec vitest run test/integration/console.test.ts`.
 */
async function screenshot(page: Page, name: string): Promise<void> {
  const folder = process.env.FREEHOLD_SCREENSHOTS;
  if (folder === undefined || folder === "") return;
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage: false });
}

async function expectAccessible(page: Page, screen: string): Promise<void> {
  const violations = await axeViolations(page);
  const serious = violations.filter(
    (violation) => violation.impact === "serious" || violation.impact === "critical",
  );
  console.info(
    `axe on ${screen}: ${violations.length} violations (${serious.length} serious or critical)${violations.map((violation) => `\n  ${violation.impact ?? "?"} ${violation.id}: ${violation.help}`).join("")}`,
  );
  expect(serious).toEqual([]);
}

const desk = [
  {
    match: { contains: "refund" },
    toolCalls: [
      {
        name: "transfer_to_human_desk",
        arguments: { summary: "Wants a refund.", reason: "Refunds need a person.", priority: "high" },
      },
    ],
  },
  {
    match: { role: "user" as const, contains: "Add" },
    toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }],
  },
  { match: { toolName: "add" }, text: "Done adding." },
  { match: { anyMessageContains: "handed the conversation back" }, text: "Your refund is on its way." },
];

async function deskWorld(sla?: { claimWithinSeconds: number }): Promise<string> {
  return world(
    harness,
    desk,
    {
      front: {
        handoffs: [{ humanQueue: "desk" }],
        tools: [{ mcpServer: "counter", allow: ["add"], requireApproval: ["add"] }],
      },
    },
    {
      mcpServers: { counter: counter.url },
      humanQueues: {
        desk: {
          description: "People.",
          members: [{ group: "testers" }],
          ...(sla === undefined ? {} : { sla }),
        },
      },
    },
  );
}

describe("the console", () => {
  it("asks for a token, and takes one pasted", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${harness.url}/`);
    await expect.poll(() => page.getByRole("button", { name: "Sign in" }).isVisible()).toBe(true);
    await expectAccessible(page, "sign-in");
    await page.getByLabel("Access token").fill(harness.tokens.get("ann") ?? "");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("link", { name: "Approvals" }).isVisible()).toBe(true);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByLabel("Access token").isVisible()).toBe(true);
  });

  it("shows a desk member the item a run hands over as it arrives; they claim it and hand it back with a note, and the run completes; a second member's claim is refused plainly", async () => {
    const namespace = await deskWorld();
    const ann = await signedIn("ann", namespace, "inbox");
    await ann.getByRole("button", { name: /^desk 0 waiting/ }).click();
    await expect
      .poll(() => ann.getByText("Nothing waits in desk.").isVisible(), { timeout: 10_000 })
      .toBe(true);
    await expect.poll(() => ann.getByText(/^Live: changes show as they happen\./).isVisible()).toBe(true);

    // Handed over while ann watches: it shows without a reload or a click.
    const run = await clientOf("tester").startRun(namespace, "front", { input: "I want a refund." });
    await waitForStatus(harness, namespace, run.id, "waiting_for_human");
    const item = ann
      .getByRole("table", { name: "Items of desk" })
      .getByRole("button", { name: "Wants a refund." });
    await expect.poll(() => item.isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => ann.getByRole("button", { name: /^desk 1 waiting/ }).isVisible()).toBe(true);
    await expect
      .poll(() => ann.getByRole("region", { name: "Just arrived" }).innerText())
      .toContain("Wants a refund.");
    await expectAccessible(ann, "inbox");
    await item.click();
    await expect.poll(() => ann.getByRole("article").innerText()).toContain("Why: Refunds need a person.");
    await expect
      .poll(() => ann.getByRole("list", { name: "Conversation" }).innerText())
      .toContain("I want a refund.");
    await expectAccessible(ann, "inbox item");
    await screenshot(ann, "inbox");
    // Claimed from the keyboard.
    await ann.keyboard.press("c");
    await expect.poll(() => ann.getByRole("cell", { name: "claimed by ann" }).isVisible()).toBe(true);
    await expect.poll(() => ann.getByRole("article").innerText()).toMatch(/Claimed by ann until /);

    const bob = await signedIn("bob", namespace, "inbox");
    await bob.getByRole("button", { name: /^desk/ }).click();
    await bob
      .getByRole("table", { name: "Items of desk" })
      .getByRole("button", { name: "Wants a refund." })
      .click();
    await bob.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => bob.getByRole("alert").innerText()).toContain(`is already claimed by ann`);

    // Her claim is among the item's earlier actions; she hands it back with a note, and the run goes on to its end.
    await expect
      .poll(() => ann.getByRole("region", { name: "Earlier actions" }).innerText())
      .toContain("ann claim in desk");
    await ann.getByLabel("Answer or note").fill("Refund approved; tell the customer.");
    await ann.getByRole("button", { name: "Hand back to front" }).click();
    const done = await waitForStatus(harness, namespace, run.id, "completed");
    expect(done.output).toBe("Your refund is on its way.");
    await expect.poll(() => ann.getByText("Nothing waits in desk.").isVisible()).toBe(true);
    await ann.goto(`${harness.url}/#/runs/${run.id}`);
    const timeline = ann.getByRole("list", { name: "Timeline" });
    await expect
      .poll(() => timeline.innerText(), { timeout: 10_000 })
      .toContain("completed: Your refund is on its way.");
    expect(await timeline.innerText()).toContain("ann hand-back: Refund approved; tell the customer.");
  });

  it("says what is left of the queue's SLA to claim an item", async () => {
    const namespace = await deskWorld({ claimWithinSeconds: 3600 });
    const run = await clientOf("tester").startRun(namespace, "front", { input: "I want a refund." });
    await waitForStatus(harness, namespace, run.id, "waiting_for_human");
    const ann = await signedIn("ann", namespace, "inbox");
    await ann.getByRole("button", { name: /^desk 1 waiting/ }).click();
    const row = ann.getByRole("row", { name: /Wants a refund\./ });
    await expect.poll(() => row.innerText(), { timeout: 10_000 }).toMatch(/59 min left to claim/);
  });

  it("lets an approver approve and reject; the requester is told why they cannot", async () => {
    const namespace = await deskWorld();
    const tester = clientOf("tester");
    const approved = await tester.startRun(namespace, "front", { input: "Add 2 and 3." });
    await waitForStatus(harness, namespace, approved.id, "waiting_for_approval");

    // The person who started the run sees it, and the gateway's reason when they try.
    const own = await signedIn("tester", namespace, "approvals");
    const card = own.getByRole("listitem", { name: "front wants to call add" });
    await expect.poll(() => card.isVisible(), { timeout: 10_000 }).toBe(true);
    await expectAccessible(own, "approvals");
    // Said before the click: the buttons wait, the gateway's reason shows.
    expect(await card.innerText()).toContain("Not yours to decide:");
    expect(await card.innerText()).toContain("may not approve its own call of add");
    expect(await card.getByRole("button", { name: "Approve" }).isDisabled()).toBe(true);
    expect(await card.getByRole("button", { name: "Reject" }).isDisabled()).toBe(true);

    const ann = await signedIn("ann", namespace, "approvals");
    const annCard = ann.getByRole("listitem", { name: "front wants to call add" });
    await expect.poll(() => annCard.innerText(), { timeout: 10_000 }).toContain("counter/add");
    expect(await annCard.innerText()).toMatch(/a\s*2/);
    await screenshot(ann, "approvals");
    await annCard.getByRole("button", { name: "Approve" }).click();
    expect((await waitForStatus(harness, namespace, approved.id, "completed")).output).toBe("Done adding.");

    const rejected = await tester.startRun(namespace, "front", { input: "Add 2 and 3, again." });
    await waitForStatus(harness, namespace, rejected.id, "waiting_for_approval");
    await ann.reload();
    const second = ann.getByRole("listitem", { name: "front wants to call add" });
    await expect.poll(() => second.isVisible(), { timeout: 10_000 }).toBe(true);
    await second.getByLabel(/Reason/).fill("Not today.");
    await second.getByRole("button", { name: "Reject" }).click();
    await expect
      .poll(async () => (await harness.store.require(namespace, rejected.id)).status, { timeout: 20_000 })
      .not.toBe("waiting_for_approval");
    const state = await harness.store.require(namespace, rejected.id);
    expect(JSON.stringify(state.messages)).toContain("Not today.");
  });

  it("lists runs and shows a run's timeline, live, with the tool call, the approval and the end", async () => {
    const namespace = await deskWorld();
    const tester = clientOf("tester");
    const run = await tester.startRun(namespace, "front", { input: "Add 2 and 3." });
    await waitForStatus(harness, namespace, run.id, "waiting_for_approval");

    const ann = await signedIn("ann", namespace, "runs");
    const row = ann.getByRole("row", { name: new RegExp(run.id.slice(0, 8)) });
    await expect.poll(() => row.innerText(), { timeout: 10_000 }).toContain("waiting for approval");
    await expectAccessible(ann, "runs");
    await row.getByRole("link").click();
    const timeline = ann.getByRole("list", { name: "Timeline" });
    await expect.poll(() => timeline.innerText(), { timeout: 10_000 }).toContain("asked for counter/add");
    expect(await timeline.innerText()).toContain("front took: Add 2 and 3.");
    await expectAccessible(ann, "run timeline");

    // Decided elsewhere: the open timeline follows the run to its end without a reload.
    const [approval] = await clientOf("ann").listApprovals(namespace);
    await clientOf("ann").decide(namespace, approval?.id ?? "", { approve: true });
    await expect.poll(() => timeline.innerText(), { timeout: 15_000 }).toContain("completed: Done adding.");
    const text = await timeline.innerText();
    expect(text).toContain("ann approved");
    expect(text).toMatch(/tool result\s+add, \d+ ms: /);
    expect(text).toMatch(/scripted-model, step \d+: \d+ in \/ \d+ out/);
    await expect.poll(() => ann.getByRole("heading", { level: 1 }).innerText()).toContain("completed");

    // Filtered by status: the completed run, not the others.
    await ann.goto(`${harness.url}/#/runs`);
    await ann.getByLabel("Status").selectOption("completed");
    await expect
      .poll(() => ann.getByRole("table", { name: "Runs" }).innerText())
      .toContain(run.id.slice(0, 8));
    await ann.getByLabel("Status").selectOption("failed");
    await expect.poll(() => ann.getByText("No runs match.").isVisible()).toBe(true);
    // Who started it, and since when.
    await ann.getByLabel("Status").selectOption("");
    await ann.getByLabel("Started by").fill("tester");
    await ann.getByRole("combobox", { name: "Started", exact: true }).selectOption("hour");
    const runs = ann.getByRole("table", { name: "Runs" });
    await expect.poll(() => runs.innerText()).toContain(run.id.slice(0, 8));
    expect(await runs.getByRole("row", { name: new RegExp(run.id.slice(0, 8)) }).innerText()).toContain(
      "tester",
    );
    await ann.getByLabel("Started by").fill("nobody");
    await expect.poll(() => ann.getByText("No runs match.").isVisible()).toBe(true);

    // The agent: what it uses and how busy it is (outside a cluster no operator reports readiness).
    await ann.goto(`${harness.url}/#/agents`);
    const front = ann.getByRole("table", { name: "Agents" }).getByRole("row", { name: /^front/ });
    await expect
      .poll(() => front.innerText(), { timeout: 10_000 })
      .toMatch(/not reported\s+scripted\s+counter\s+people desk\s+0\s+0/);
    await expectAccessible(ann, "agents");
  });

  it("cancels a run from its timeline", async () => {
    const namespace = await deskWorld();
    const run = await clientOf("tester").startRun(namespace, "front", { input: "Add 2 and 3." });
    await waitForStatus(harness, namespace, run.id, "waiting_for_approval");
    const ann = await signedIn("ann", namespace, "runs");
    await ann.goto(`${harness.url}/#/runs/${run.id}`);
    await ann.getByRole("button", { name: "Cancel run" }).click();
    await expect
      .poll(() => ann.getByRole("heading", { level: 1 }).innerText(), { timeout: 10_000 })
      .toContain("cancelled");
    expect((await harness.store.require(namespace, run.id)).status).toBe("cancelled");
    expect(await ann.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
  });

  it("shows every step of the handoffs example on the run's timeline, the child run a link away", async () => {
    const script = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "..", "..", "examples", "handoffs", "model-script.json"),
        "utf8",
      ),
    ) as ModelScriptInput;
    const namespace = await world(
      harness,
      script,
      {
        triage: { handoffs: [{ agent: "billing" }] },
        billing: { tools: [{ agent: "researcher" }], handoffs: [{ humanQueue: "billing-desk" }] },
        researcher: {},
      },
      { humanQueues: { "billing-desk": { description: "Refunds.", members: [{ group: "testers" }] } } },
    );
    const tester = clientOf("tester");
    const run = await tester.startRun(namespace, "triage", { input: "I was charged twice for INV-7" });
    await waitForStatus(harness, namespace, run.id, "waiting_for_human");

    const ann = await signedIn("ann", namespace, "inbox");
    await ann.getByRole("button", { name: /^billing-desk 1 waiting/ }).click();
    await ann
      .getByRole("table", { name: "Items of billing-desk" })
      .getByRole("button", { name: "Customer was charged twice for INV-7." })
      .click();
    await ann.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => ann.getByRole("cell", { name: "claimed by ann" }).isVisible()).toBe(true);
    await ann.getByLabel("Answer or note").fill("Refund approved; tell the customer.");
    await ann.getByRole("button", { name: "Hand back to billing" }).click();
    await waitForStatus(harness, namespace, run.id, "completed");

    await ann.goto(`${harness.url}/#/runs/${run.id}`);
    const timeline = ann.getByRole("list", { name: "Timeline" });
    await expect.poll(() => timeline.innerText(), { timeout: 10_000 }).toContain("completed: Good news");
    const steps = (await timeline.getByRole("listitem").allInnerTexts()).map((text) =>
      text.replace(/\s+/g, " "),
    );
    const expected = [
      /start triage took: I was charged twice for INV-7/,
      /model scripted-model, step 1: .*transfer_to_billing/,
      /transfer triage → billing: Charged twice for INV-7\./,
      /model scripted-model, step 2: .*ask_researcher/,
      /delegation to researcher: child run/,
      /tool result ask_researcher, \d+ ms: INV-7 was paid twice/,
      /delegation child run \S+ completed/,
      /to people billing-desk \(high\): Customer was charged twice for INV-7\. — Refunds need approval\./,
      /person ann claim/,
      /person ann hand-back: Refund approved; tell the customer\./,
      /end completed: Good news: the duplicate charge for INV-7 is refunded/,
    ];
    let at = 0;
    for (const pattern of expected) {
      const found = steps.findIndex((step, index) => index >= at && pattern.test(step));
      expect(found, `${pattern} after step ${at} of:\n${steps.join("\n")}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
    await screenshot(ann, "run-timeline");

    // The child run, a link away: the researcher's own timeline, and the way back to its parent.
    await timeline.getByRole("link").first().click();
    const child = ann.getByRole("list", { name: "Timeline" });
    await expect
      .poll(() => child.innerText(), { timeout: 10_000 })
      .toContain("researcher took: Payment history");
    expect(await child.innerText()).toContain("completed: INV-7 was paid twice");
    await expect.poll(() => ann.getByRole("link", { name: run.id.slice(0, 8) }).isVisible()).toBe(true);
  });

  it("opens a queue of 10,000 waiting items at its first page, and shows a new one as it arrives (times printed, not asserted)", async () => {
    const namespace = `big${Math.random().toString(36).slice(2, 8)}`;
    harness.directory.add([
      {
        kind: "HumanQueue",
        metadata: { name: "desk", namespace },
        spec: { description: "People.", members: [{ group: "testers" }] },
      },
    ]);
    const base = Date.now() - 3_600_000;
    const writes: Promise<boolean>[] = [];
    for (let index = 0; index < 10_000; index += 1) {
      const time = new Date(base + index).toISOString();
      const id = `big-${String(index).padStart(5, "0")}-1-0`;
      const effects = inboxItemEffects({
        schemaVersion: 1,
        id,
        namespace,
        queue: "desk",
        runId: `big-${String(index).padStart(5, "0")}`,
        agent: "front",
        summary: `Customer ${index} wants a refund.`,
        reason: "Refunds need a person.",
        priority: index % 10 === 0 ? "high" : "normal",
        conversation: [{ role: "user", content: `I want a refund for order ${index}.` }],
        status: "waiting",
        createdAt: time,
        queuedAt: time,
        escalations: 0,
        leaseSeconds: 300,
      });
      // Each written as a handoff writes it: the item, its place in the queue, its event; sent together.
      writes.push(compareAndWrite(harness.connection, [], effects));
    }
    await Promise.all(writes);

    const ann = await signedIn("ann", namespace, "agents");
    const started = performance.now();
    await ann.goto(`${harness.url}/#/inbox`);
    const first = ann.getByRole("button", { name: "Customer 0 wants a refund." });
    await first.waitFor({ state: "visible", timeout: 30_000 });
    const interactive = performance.now() - started;
    expect(await ann.getByRole("button", { name: /^desk 10000 waiting/ }).isVisible()).toBe(true);
    // The first page: the oldest high-priority items first, a page of 100, more on demand.
    expect(await ann.getByRole("table", { name: "Items of desk" }).getByRole("row").count()).toBe(101);
    await first.click();
    await expect.poll(() => ann.getByRole("article").innerText()).toContain("I want a refund for order 0.");
    await expect.poll(() => ann.getByText(/^Live: changes show as they happen\./).isVisible()).toBe(true);

    // One more arrives, written as a handoff writes it: how long until the page shows it.
    const time = new Date().toISOString();
    const arrived = performance.now();
    await compareAndWrite(
      harness.connection,
      [],
      inboxItemEffects({
        schemaVersion: 1,
        id: "big-new-1-0",
        namespace,
        queue: "desk",
        runId: "big-new",
        agent: "front",
        summary: "A new customer needs a person.",
        reason: "Refunds need a person.",
        priority: "normal",
        conversation: [{ role: "user", content: "Hello?" }],
        status: "waiting",
        createdAt: time,
        queuedAt: time,
        escalations: 0,
        leaseSeconds: 300,
      }),
    );
    await ann
      .getByRole("region", { name: "Just arrived" })
      .getByRole("button", { name: "A new customer needs a person." })
      .waitFor({ state: "visible", timeout: 30_000 });
    const shown = performance.now() - arrived;
    await expect.poll(() => ann.getByRole("button", { name: /^desk 10001 waiting/ }).isVisible()).toBe(true);
    console.info(
      `inbox of 10,000 waiting items: first page interactive ${Math.round(interactive)} ms after navigation; a new item shown ${Math.round(shown)} ms after it was written`,
    );
  });

  it("shows a member of another tenant none of it", async () => {
    const namespace = await deskWorld();
    const run = await clientOf("tester").startRun(namespace, "front", { input: "Add 2 and 3." });
    await waitForStatus(harness, namespace, run.id, "waiting_for_approval");
    const eve = await signedIn("eve", namespace, "approvals");
    await expect.poll(() => eve.getByRole("alert").isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await eve.getByRole("listitem").count()).toBe(0);
    expect(await eve.content()).not.toContain("counter/add");
    await eve.goto(`${harness.url}/#/agents`);
    await expect.poll(() => eve.getByRole("alert").count()).toBe(2);
    expect(await eve.getByRole("table").count()).toBe(0);
    await expectAccessible(eve, "agents (refused)");
  });
});
