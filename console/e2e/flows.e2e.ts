// Every flow of the console, driven in one headless Chromium against make local's platform as a person drives it:
// clicks, typing, the local CloudFormation console in a new tab, waiting for Active. Each screen is checked with
// axe-core and at 1280 and 390 px, and photographed (test-results/screenshots).
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { LONG, WAIT, awsQuery, checkScreen, figure, gone, iam, launch, results, screens, see } from "./helpers";

const platform = inject("platform");
const demo = platform.demo;
const mgmtId = demo.managementAccountId;
const prodId = "111122223333";
const lakeId = "444455556666";
const stagingId = "777788889999";
const identityId = "222233334444";
/** Every demo account holds the same tagged resources in each demo region. */
const perAccountResources = demo.resources / demo.accounts.length;

let browser: Browser;
let context: BrowserContext;
let page: Page;
const flows: string[] = [];
const flow = (name: string, fn: () => Promise<void>) =>
  test(name, async () => {
    await fn();
    flows.push(name);
  });

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: platform.consoleUrl });
  page = await context.newPage();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && page) {
    await page.screenshot({ path: path.join(results, `failed-${ctx.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true }).catch(() => undefined);
  }
});

afterAll(async () => {
  figure("flowsCoveredEndToEnd", flows.length);
  figure("flows", flows.join("; "));
  figure("screensChecked", [...screens].length);
  await browser?.close();
});

const dialog = (name: string | RegExp) => page.getByRole("dialog", { name });
const button = (name: string | RegExp) => page.getByRole("button", { name });
const link = (name: string | RegExp) => page.getByRole("link", { name });
const go = async (path: string) => {
  await page.goto(platform.consoleUrl + path);
};
/** The field error shown next to the input labelled `label`. */
const fieldError = (scope: ReturnType<typeof dialog> | Page, label: string | RegExp) =>
  scope.locator(".field-invalid").filter({ has: page.getByLabel(label) }).locator(".field-error");

/** Opens the connect panel's quick-create (or update) link in a new tab, creates the stack there, closes the tab. */
async function launchStackInLocalConsole(buttonName: RegExp, done: RegExp) {
  const [tab] = await Promise.all([context.waitForEvent("page", { timeout: WAIT }), button(buttonName).click()]);
  await tab.waitForLoadState("domcontentloaded");
  await tab.getByLabel(/I acknowledge/).check();
  await tab.getByRole("button", { name: /(Create|Update) stack/ }).click();
  await see(tab.locator("#status").getByText(done), LONG);
  await tab.close();
}

describe("the console", () => {
  flow("sign-in: make local signs the demo admin in (OIDC code + PKCE) and shows the accounts table", async () => {
    const start = Date.now();
    await go("/");
    await see(page.getByTestId("accounts-table"));
    figure("navigationToAccountsTableMs", Date.now() - start);
    expect(page.url()).toBe(platform.consoleUrl + "/accounts");
    await see(page.getByText("demo · admin"));
    // Tokens stay in memory: nothing in web storage but the finished sign-in's absence.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toMatch(/eyJ/);
    await checkScreen(page, "accounts-empty", page.getByTestId("accounts-table"));
  });

  flow("Add Cloud Account: the API's validation inline, then quick-create in a new tab, waiting until Active", async () => {
    await link("Add Cloud Account").click();
    const d = dialog("Add Cloud Account");
    await see(d);
    await d.getByLabel("Name").fill("Production");
    await d.getByLabel("AWS account ID").fill("12345");
    await d.getByLabel("Region").fill("mars-north-1");
    await d.getByRole("button", { name: "Add account" }).click();
    await see(fieldError(d, "AWS account ID"));
    expect(await fieldError(d, "AWS account ID").textContent()).toMatch(/12 digits/);
    expect(await fieldError(d, "Region").textContent()).toMatch(/mars-north-1/);
    expect(await d.getByLabel("AWS account ID").getAttribute("aria-invalid")).toBe("true");
    await checkScreen(page, "add-account-errors", d);

    await d.getByLabel("AWS account ID").fill(prodId);
    await d.getByLabel("Region").fill("us-east-1");
    await d.getByRole("button", { name: "Add account" }).click();
    const c = dialog("Connect Production");
    await see(c.getByRole("tab", { name: "Launch stack" }));
    await see(c.getByText(/browser may block pop-ups/));
    await checkScreen(page, "connect-launch", c.getByRole("tab", { name: "Launch stack" }));

    // The CLI command, copied with the button.
    await c.getByRole("tab", { name: "AWS CLI" }).click();
    const command = await c.getByLabel("AWS CLI command").textContent();
    expect(command).toMatch(/aws cloudformation create-stack/);
    await c.getByRole("button", { name: "Copy command" }).click();
    await see(c.getByText("Copied"));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(command);
    await checkScreen(page, "connect-cli", c.getByLabel("AWS CLI command"));
    await c.getByRole("tab", { name: "Manual" }).click();
    await see(c.getByLabel("Trust policy"));
    await checkScreen(page, "connect-manual", c.getByLabel("Trust policy"));
    await c.getByRole("tab", { name: "Terraform" }).click();
    expect(await c.getByLabel("Terraform configuration").textContent()).toMatch(/aws_iam_role/);
    await checkScreen(page, "connect-terraform", c.getByLabel("Terraform configuration"));

    await c.getByRole("tab", { name: "Launch stack" }).click();
    await see(c.getByTestId("connect-status").getByText(/Waiting for the stack/));
    await launchStackInLocalConsole(/Open the AWS console in a new tab/, /CREATE_COMPLETE/);
    await see(c.getByTestId("connect-status").getByText("Active"), LONG);
    await checkScreen(page, "connect-active", c.getByTestId("connect-status"));
    await c.getByRole("button", { name: "Close" }).last().click();
    await gone(c);
    await see(page.getByTestId("accounts-table"));
    await see(page.locator(`tr[data-account="${prodId}"]`).getByText("Active"));
  });

  flow("Add Cloud Account by keyboard alone; the pop-up blocker hint when the new tab is blocked", async () => {
    await go("/accounts");
    await see(page.getByTestId("accounts-table"));
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press("Tab");
      if ((await page.evaluate(() => document.activeElement?.textContent)) === "Add Cloud Account") break;
    }
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Add Cloud Account");
    await page.keyboard.press("Enter");
    const d = dialog("Add Cloud Account");
    await see(d);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("type") ?? document.activeElement?.tagName)).not.toBe("BUTTON");
    await page.keyboard.type("Staging");
    await page.keyboard.press("Tab");
    await page.keyboard.type(stagingId);
    await page.keyboard.press("Enter");
    const c = dialog("Connect Staging");
    await see(c.getByRole("tab", { name: "Launch stack" }));
    // Arrow keys move between the tabs.
    await c.getByRole("tab", { name: "Launch stack" }).focus();
    await page.keyboard.press("ArrowRight");
    await see(c.getByLabel("AWS CLI command"));
    await page.keyboard.press("Escape");
    await gone(c);

    // A browser that blocks the new tab: the console says so and offers the link.
    const blocked = await context.newPage();
    await blocked.addInitScript(() => {
      window.open = () => null;
    });
    await blocked.goto(`${platform.consoleUrl}/accounts/${stagingId}/connect`);
    await blocked.getByRole("button", { name: /Open the AWS console/ }).click();
    await see(blocked.getByRole("alert").getByText(/blocked the pop-up/));
    await see(blocked.getByRole("link", { name: /quick-create link/ }));
    await blocked.close();
  });

  flow("paste a role ARN: a wrong role is refused next to the field, the role made by hand connects", async () => {
    await go("/accounts/new");
    const d = dialog("Add Cloud Account");
    await d.getByLabel("Name").fill("Data lake");
    await d.getByLabel("AWS account ID").fill(lakeId);
    await d.getByRole("button", { name: "Add account" }).click();
    const c = dialog("Connect Data lake");
    await c.getByRole("tab", { name: "Manual" }).click();
    // What the person copies from the console into their own account (aws iam create-role / put-role-policy).
    const trust = (await c.getByLabel("Trust policy").textContent())!;
    const roleName = (await c.locator("p", { hasText: "Role name:" }).locator("code").textContent())!;
    await iam(platform.awsEndpoint, lakeId, "CreateRole", { RoleName: roleName, AssumeRolePolicyDocument: trust });
    const policies = c.getByLabel(/^Permission policy /);
    for (let i = 0; i < (await policies.count()); i++) {
      const name = (await policies.nth(i).getAttribute("aria-label"))!.replace("Permission policy ", "");
      await iam(platform.awsEndpoint, lakeId, "PutRolePolicy", { RoleName: roleName, PolicyName: name, PolicyDocument: (await policies.nth(i).textContent())! });
    }
    const arn = c.getByLabel("Role ARN");
    await arn.fill(`arn:aws:iam::${lakeId}:role/GangplankNoSuchRole`);
    await c.getByRole("button", { name: "Connect role" }).click();
    await see(c.locator(".alert-bad, .field-error").first());
    await checkScreen(page, "connect-paste-arn-refused", c.getByLabel("Role ARN"));
    await arn.fill(`arn:aws:iam::${lakeId}:role/${roleName}`);
    await c.getByRole("button", { name: "Connect role" }).click();
    await see(c.getByTestId("connect-status").getByText("Active"), LONG);
    await page.keyboard.press("Escape");
    await gone(c);
  });

  flow("a management account: quick-create, then its organization is discovered with every member's status", async () => {
    await go("/accounts/new");
    const d = dialog("Add Cloud Account");
    await d.getByLabel("Name").fill("Payer");
    await d.getByLabel("AWS account ID").fill(mgmtId);
    await d.getByRole("radio", { name: /^Management/ }).check();
    await d.getByRole("radio", { name: /^Resources and tags/ }).check();
    await d.getByRole("button", { name: "Add account" }).click();
    const c = dialog("Connect Payer");
    await launchStackInLocalConsole(/Open the AWS console in a new tab/, /CREATE_COMPLETE/);
    await see(c.getByTestId("connect-status").getByText("Active"), LONG);
    await c.getByRole("button", { name: "Go to the account" }).click();
    await see(page.getByRole("heading", { name: "Payer", level: 1 }));
    await checkScreen(page, "account-overview", page.getByRole("heading", { name: "Status" }));
    await link("Organization").click();
    await see(page.getByRole("heading", { name: "Discovery" }));
    await button("Discover now").click();
    // Discovery is a job: its progress shows until it succeeds, then the run's result.
    await see(page.getByTestId("discovery-job"));
    await see(page.locator('[data-testid="discovery-job"][data-status="succeeded"]'), LONG);
    expect(await page.getByTestId("discovery-job").textContent()).toMatch(new RegExp(`${Object.keys(demo.members).length + 1} accounts and \\d+ OUs read`));
    await see(page.getByTestId("discovery-run").getByText(/Last run/), LONG);
    for (const name of Object.keys(demo.members)) await see(page.locator(`[data-member="${demo.members[name]}"]`));
    await see(page.locator(`[data-member="${demo.members["prod-web"]}"]`).getByText("Not activated"));
    await checkScreen(page, "organization", page.getByRole("heading", { name: "Organization" }));
  });

  flow("include/exclude filters: saved, kept across a reload, and the next discovery runs with them", async () => {
    await button("Edit filters").click();
    await page.getByLabel("Exclude Root/Sandbox").check();
    await checkScreen(page, "organization-filters", page.getByLabel("Exclude Root/Sandbox"));
    await button("Save filters").click();
    await see(page.getByText(/Saved\. They apply from the next discovery/));
    // Accounts discovery already brought in stay (they are the tenant's now); the filters decide what comes next.
    const before = await page.getByTestId("discovery-run").getAttribute("data-run-at");
    await button("Discover now").click();
    await page.waitForFunction(
      (b) => {
        const run = document.querySelector('[data-testid="discovery-run"]');
        return run && run.getAttribute("data-run-at") !== b && run.textContent?.includes("ok");
      },
      before,
      { timeout: LONG },
    );
    await page.reload();
    await see(page.getByText(/0 included OUs, 1 excluded OUs/));
    await button("Edit filters").click();
    expect(await page.getByLabel("Exclude Root/Sandbox").isChecked()).toBe(true);
    expect(await page.getByLabel("Exclude Root/Workloads", { exact: true }).isChecked()).toBe(false);
    await button("Hide filters").click();
  });

  flow("Activate one member: live progress until it succeeds", async () => {
    await page.getByRole("button", { name: "Activate prod-web" }).click();
    const panel = page.getByTestId("activation").first();
    await see(panel);
    await see(panel.getByRole("progressbar"));
    await page.locator('[data-testid="activation"][data-status="completed"]').first().waitFor({ timeout: LONG });
    await see(panel.locator(`[data-item="${demo.members["prod-web"]}"][data-status="succeeded"]`));
    await see(page.locator(`[data-member="${demo.members["prod-web"]}"]`).getByText("Active"), LONG);
  });

  flow("checkboxes and Activate Selected, with each account's outcome", async () => {
    await page.getByLabel(`Select dev-web (${demo.members["dev-web"]})`).check();
    await page.getByLabel(`Select dev-data (${demo.members["dev-data"]})`).check();
    await button("Activate Selected (2)").click();
    const panel = page.locator('[data-testid="activation"]').filter({ hasText: "Activation of 2 accounts" }).first();
    await see(panel);
    await checkScreen(page, "activation-progress", panel);
    await panel.and(page.locator('[data-status="completed"]')).waitFor({ timeout: LONG });
    for (const n of ["dev-web", "dev-data"]) await see(panel.locator(`[data-item="${demo.members[n]}"][data-status="succeeded"]`));
  });

  flow("an activation that fails shows each account's reason; cancel stops one in flight", async () => {
    // A member role that does not exist: the activation fails with the reason per account.
    await button("Edit filters").click();
    await page.getByLabel("Exclude Root/Sandbox").uncheck();
    await page.getByLabel("Member access role").fill("NoSuchMemberRole");
    await button("Save filters").click();
    await see(page.getByText(/Saved\./));
    await page.getByRole("button", { name: "Activate prod-data" }).click();
    const failed = page.locator('[data-testid="activation"]').filter({ has: page.locator(`[data-item="${demo.members["prod-data"]}"]`) }).first();
    await failed.locator(`[data-item="${demo.members["prod-data"]}"][data-status="failed"]`).waitFor({ timeout: LONG });
    expect((await failed.locator(`[data-item="${demo.members["prod-data"]}"] .reason`).textContent())!.length).toBeGreaterThan(10);

    await page.getByLabel("Member access role").fill("OrganizationAccountAccessRole");
    await button("Save filters").click();
    await see(page.getByText(/Saved\./));
    await page.reload();
    await see(page.getByRole("heading", { name: "Organization" }));
    await page.getByLabel(`Select shared-services (${demo.members["shared-services"]})`).check();
    await page.getByLabel(`Select prod-data (${demo.members["prod-data"]})`).check();
    await button(/^Activate Selected \(2\)/).click();
    const running = page.locator('[data-testid="activation"][data-status="running"]').first();
    await see(running.getByRole("button", { name: "Cancel activation" }));
    await running.getByRole("button", { name: "Cancel activation" }).click();
    const cancelled = page.locator('[data-testid="activation"][data-status="cancelled"]').first();
    await see(cancelled, LONG);
    await see(cancelled.getByText(/cancelled/));
  });

  flow("Change Access: three levels and the Cost Explorer toggle; the role grants less, so update the stack", async () => {
    await go(`/accounts/${prodId}`);
    await button("Change Access").click();
    const d = dialog("Change Access");
    for (const l of ["Resources", "Resources and tags", "Resources, tags and tag writing"]) await see(d.getByRole("radio", { name: new RegExp(`^${l.replace(/[,]/g, ",")}`) }));
    await d.getByRole("radio", { name: /^Resources, tags and tag writing/ }).check();
    await d.getByRole("checkbox", { name: /Cost Explorer/ }).uncheck();
    await checkScreen(page, "change-access", d);
    await d.getByRole("button", { name: "Save access" }).click();
    await gone(d);
    const callout = page.getByTestId("update-stack");
    await see(callout);
    await callout.getByRole("button", { name: "Get the update link" }).click();
    await see(callout.getByRole("tab", { name: "Update the stack" }));
    await checkScreen(page, "update-stack", callout.getByRole("tab", { name: "Update the stack" }));
    await launchStackInLocalConsole(/Open the update link in a new tab/, /UPDATE_COMPLETE/);
    await see(callout.getByText(/grants the access level chosen/), LONG);
    await page.reload();
    await see(page.getByTestId("access-level").getByText("Resources, tags and tag writing"));
    await gone(page.getByTestId("update-stack"));
  });

  flow("rename: a taken name is refused next to the field; a new one is saved", async () => {
    await button("Rename").click();
    const d = dialog(/^Rename/);
    await d.getByLabel("New name").fill("data LAKE");
    await d.getByRole("button", { name: "Save name" }).click();
    await see(fieldError(d, "New name"));
    await checkScreen(page, "rename-taken", d);
    await d.getByLabel("New name").fill("Production EU");
    await d.getByRole("button", { name: "Save name" }).click();
    await see(page.getByRole("heading", { name: "Production EU", level: 1 }));
  });

  flow("integration settings: each field's error next to it (list items named), then saved and shown", async () => {
    await see(page.getByRole("heading", { name: "Production EU", level: 1 }));
    await button("Edit integration settings").click();
    const d = dialog("Integration settings");
    await d.getByLabel("Integration name").fill("prod eu!");
    await d.getByLabel("Owners").fill("ops@example.com, not-an-email");
    await d.getByLabel("Regions").fill("eu-west-1, mars-north-1");
    await d.getByLabel(/Rotate the access key every/).fill("400");
    await d.getByRole("button", { name: "Save settings" }).click();
    await see(fieldError(d, "Integration name"));
    expect(await fieldError(d, "Owners").textContent()).toMatch(/not-an-email/);
    expect(await fieldError(d, "Owners").textContent()).not.toMatch(/ops@example\.com"/);
    expect(await fieldError(d, "Regions").textContent()).toMatch(/mars-north-1/);
    expect(await fieldError(d, /Rotate the access key every/).textContent()).toMatch(/365/);
    await checkScreen(page, "integration-errors", fieldError(d, "Owners"));
    await d.getByLabel("Integration name").fill("prod-eu");
    await d.getByLabel("Owners").fill("ops@example.com, finops@example.com");
    await d.getByLabel("Regions").fill("eu-west-1");
    await d.getByLabel(/Rotate the access key every/).fill("90");
    await d.getByRole("button", { name: "Save settings" }).click();
    await gone(d);
    const card = page.getByTestId("integration");
    await see(card.getByText("prod-eu"));
    await see(card.getByText("ops@example.com, finops@example.com"));
    await see(card.getByText("Every 90 days"));
    await page.reload();
    await see(page.getByTestId("integration").getByText("prod-eu"));
    await checkScreen(page, "integration", page.getByTestId("integration"));
  });

  flow("remove: only once the name is typed; a management account with linked accounts says why it cannot go", async () => {
    await go(`/accounts/${mgmtId}`);
    await button("Remove").click();
    let d = dialog("Remove Payer");
    const remove = d.getByRole("button", { name: "Remove account" });
    expect(await remove.isDisabled()).toBe(true);
    await d.getByLabel(/Type the account's name/).fill("payer");
    expect(await remove.isDisabled()).toBe(true);
    await d.getByLabel(/Type the account's name/).fill("Payer");
    await remove.click();
    await see(d.getByTestId("remove-refused"));
    expect(await d.getByTestId("remove-refused").textContent()).toMatch(/linked accounts/);
    await checkScreen(page, "remove-refused", d.getByTestId("remove-refused"));
    await page.keyboard.press("Escape");

    await go(`/accounts/${lakeId}`);
    await button("Remove").click();
    d = dialog("Remove Data lake");
    await d.getByLabel(/Type the account's name/).fill("Data lake");
    await d.getByRole("button", { name: "Remove account" }).click();
    await see(page.getByTestId("accounts-table"));
    expect(await page.locator(`tr[data-account="${lakeId}"]`).count()).toBe(0);
  });

  flow("accounts: grouped by management account and expandable, search, filters and cursor pagination", async () => {
    await go("/accounts");
    const group = page.locator(`tr[data-account="${mgmtId}"]`);
    await see(group);
    await group.getByRole("button", { name: /Show the linked accounts of Payer/ }).click();
    await see(page.locator(`tr.nested[data-account="${demo.members["prod-web"]}"]`).getByText("Active"));
    await see(page.locator(`tr.nested[data-account="${demo.members["sandbox-bob"]}"]`).getByText("Not activated"));
    await checkScreen(page, "accounts-grouped", page.locator(`tr.nested[data-account="${demo.members["prod-web"]}"]`));

    await page.getByLabel("Search accounts").fill("Staging");
    await button("Search").click();
    await see(page.locator(`tr[data-account="${stagingId}"]`));
    await gone(page.locator(`tr[data-account="${prodId}"]`));
    await page.getByLabel("Search accounts").fill(demo.members["dev-web"]!);
    await button("Search").click();
    await see(page.getByRole("heading", { name: `Account ${demo.members["dev-web"]}` }));

    await go("/accounts?type=linked&limit=3");
    await see(page.getByTestId("accounts-table"));
    expect(await page.locator("[data-testid=accounts-table] tr[data-account]").count()).toBe(3);
    const first = await page.locator("[data-testid=accounts-table] tr[data-account]").first().getAttribute("data-account");
    await button("Next page").click();
    await page.waitForFunction((f) => document.querySelector("[data-testid=accounts-table] tr[data-account]")?.getAttribute("data-account") !== f, first, { timeout: WAIT });
    await see(page.getByText("Page 2"));
    await button("Previous page").click();
    await see(page.getByText("Page 1"));
    await page.getByLabel("Status").selectOption("active");
    await see(page.getByRole("heading", { name: /Linked accounts · Active/ }));
    await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=accounts-table] tr[data-account] td[data-label=Status]")].every((td) => td.textContent?.startsWith("Active")), undefined, { timeout: WAIT });
    await checkScreen(page, "accounts-filtered", page.getByTestId("accounts-table"));
  });

  flow("recommendations: sync now, sync status, filters and savings totals, per account and tenant-wide", async () => {
    await go(`/accounts/${mgmtId}/recommendations`);
    await see(page.getByTestId("sync-status"));
    await button("Sync now").click();
    await see(page.getByTestId("sync-status").getByText(/^ok$/), LONG);
    await see(page.getByTestId("rec-table").locator("tbody tr").first());
    const total = await page.getByTestId("rec-totals").locator("dd").first().textContent();
    expect(total).toMatch(/\$[1-9]/);
    await checkScreen(page, "recommendations-account", page.getByTestId("rec-table"));
    await page.getByLabel("Term").selectOption("ONE_YEAR");
    await page.waitForURL(/term=ONE_YEAR/);
    await go("/recommendations");
    await see(page.getByTestId("rec-table"));
    const before = await page.getByTestId("rec-totals").locator("dd").nth(2).textContent();
    await page.getByLabel("Service").selectOption("rds");
    await page.waitForFunction(
      (b) => document.querySelectorAll('[data-testid="rec-totals"] dd')[2]?.textContent !== b,
      before,
      { timeout: WAIT },
    );
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="rec-table"] td[data-label="Service"]')].every((td) => td.textContent?.startsWith("rds")), undefined, { timeout: WAIT });
    await checkScreen(page, "recommendations-tenant", page.getByTestId("rec-table"));
  });

  flow("EDP commitment: set it, then spend against the straight-line target in a chart; remove it", async () => {
    await go(`/accounts/${mgmtId}/commitment`);
    await button("Set the commitment").click();
    const year = new Date().getUTCFullYear();
    await page.getByLabel("Committed spend over the term").fill("abc");
    await page.getByLabel("Start", { exact: true }).fill(`${year}-01-01`);
    await page.getByLabel("End", { exact: true }).fill(`${year}-12-31`);
    await button("Save commitment").click();
    await see(page.locator(".field-error, .alert-bad").first());
    await page.getByLabel("Committed spend over the term").fill("1200000");
    await button("Save commitment").click();
    await see(page.getByTestId("spend-chart"), LONG);
    await see(page.getByTestId("commitment-totals").getByText("$1,200,000"));
    await checkScreen(page, "commitment", page.getByTestId("spend-chart"));
    await button("Remove commitment").click();
    await checkScreen(page, "commitment-remove", page.getByTestId("remove-commitment"));
    await button("Yes, remove it").click();
    await see(page.getByText("No EDP commitment recorded for this payer yet."));
    await gone(page.getByTestId("spend-chart"));
    await page.reload();
    await see(page.getByText("No EDP commitment recorded for this payer yet."));
  });

  flow("resources and tags: the account's inventory (status, counts), tag summaries, filters by tag, type and region, sync now", async () => {
    await go(`/accounts/${mgmtId}/resources`);
    // The first sync started when the account was connected: the card follows it until the inventory is active.
    await see(page.locator('[data-testid="inventory-status"][data-status="active"]'), LONG);
    await see(page.getByRole("button", { name: "Sync now" }), LONG);
    // The seeded resources, and what the onboarding stack itself made in the account.
    expect(Number(await page.getByTestId("inventory-count").textContent())).toBeGreaterThanOrEqual(perAccountResources);
    await see(page.getByTestId("resources-table").locator("tbody tr[data-arn]"));
    await checkScreen(page, "resources-account", page.getByTestId("resources-table"));

    // Tag summaries: a key's values, and a value filters the list.
    await page.getByTestId("tag-summary").getByRole("button", { name: /^env / }).click();
    await see(page.getByTestId("tag-values"));
    await page.getByTestId("tag-values").getByRole("button", { name: /^prod \d+ resources$/ }).click();
    await page.waitForURL(/tag=env%3Aprod/);
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="resources-table"] tbody tr[data-arn]')];
        return rows.length > 0 && rows.every((r) => r.querySelector('td[data-label="Tags"]')?.textContent?.includes("env=prod"));
      },
      undefined,
      { timeout: WAIT },
    );
    await checkScreen(page, "resources-tag-filter", page.getByTestId("tag-values"));

    // Type and region, typed.
    await button("Clear filters").click();
    await page.getByLabel("Type", { exact: true }).fill("sqs:queue");
    await page.getByLabel("Region", { exact: true }).fill("eu-west-1");
    await page.getByLabel("Tag", { exact: true }).fill("team");
    await button("Filter").click();
    await page.waitForURL(/type=sqs%3Aqueue/);
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="resources-table"] tbody tr[data-arn]')];
        return (
          rows.length > 0 &&
          rows.every((r) => r.querySelector('td[data-label="Type"]')?.textContent === "sqs:queue" && r.querySelector('td[data-label="Region"]')?.textContent === "eu-west-1")
        );
      },
      undefined,
      { timeout: WAIT },
    );

    // Sync now: the card follows the sync it asked for to its end (locally it may end before the answer arrives).
    const seq = Number(await page.getByTestId("inventory-status").getAttribute("data-seq"));
    await button("Sync now").click();
    await page.waitForFunction(
      (before) => {
        const card = document.querySelector('[data-testid="inventory-status"]');
        return card !== null && Number(card.getAttribute("data-seq")) > before && card.getAttribute("data-status") === "active";
      },
      seq,
      { timeout: LONG },
    );
    await see(page.getByRole("button", { name: "Sync now" }), LONG);

    // Tenant-wide: every connected account's resources, with the account.
    await link("Resources").first().click();
    await see(page.getByRole("heading", { name: "Resources", level: 1 }));
    await page.getByLabel("Tag", { exact: true }).fill("team=payments");
    await button("Filter").click();
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="resources-table"] tbody tr[data-arn]')];
        return rows.length > 0 && rows.every((r) => r.querySelector('td[data-label="Tags"]')?.textContent?.includes("team=payments") && r.querySelector('td[data-label="Account"]'));
      },
      undefined,
      { timeout: WAIT },
    );
    await checkScreen(page, "resources-tenant", page.getByTestId("resources-table"));
  });

  flow("edit tags at resources_tags: a bad key is refused next to it, then the edit is kept in Gangplank", async () => {
    await go(`/accounts/${mgmtId}/resources?type=sns%3Atopic&region=us-east-1`);
    const row = page.getByTestId("resources-table").locator("tbody tr[data-arn]").first();
    await see(row);
    const arn = (await row.getAttribute("data-arn"))!;
    await row.getByRole("button", { name: /^Edit tags of/ }).click();
    const d = page.getByRole("dialog", { name: /^Tags of/ });
    await see(d.getByRole("group", { name: "Tags" }));
    await d.getByRole("button", { name: "Add a tag" }).click();
    const added = d.getByTestId("tag-row").last();
    await added.getByLabel(/^Key/).fill("aws:owner");
    await added.getByLabel(/^Value/).fill("alice");
    await d.getByRole("button", { name: "Save tags" }).click();
    await see(added.locator(".field-error"));
    expect(await added.locator(".field-error").textContent()).toMatch(/aws:/);
    expect(await added.getByLabel(/^Key/).getAttribute("aria-invalid")).toBe("true");
    await checkScreen(page, "tags-error", added.locator(".field-error"));
    await added.getByLabel(/^Key/).fill("owner");
    await d.getByRole("button", { name: "Save tags" }).click();
    await see(d.locator('[data-testid="editor-write-state"][data-state="local"]'));
    await checkScreen(page, "tags-saved-local", d.getByTestId("editor-write-state"));
    await d.getByRole("button", { name: "Close" }).last().click();
    await gone(d);
    await see(page.locator(`tr[data-arn="${arn}"]`).getByText("owner=alice"));
    await see(page.locator(`tr[data-arn="${arn}"] [data-testid="write-state"][data-state="local"]`));
  });

  flow("tag write-back at tags_write: pending, then written to AWS; a tag AWS changed meanwhile is a conflict showing both values", async () => {
    // The person's own topic in the account (made with the AWS CLI), then a sync brings it in.
    const region = "eu-west-1";
    const created = await awsQuery(platform.awsEndpoint, prodId, "sns", region, {
      Action: "CreateTopic",
      Name: "orders",
      "Tags.member.1.Key": "team",
      "Tags.member.1.Value": "checkout",
    });
    const topicArn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(created)![1]!;
    await go(`/accounts/${prodId}/resources`);
    await see(page.getByRole("button", { name: "Sync now" }), LONG);
    await button("Sync now").click();
    const row = page.locator(`tr[data-arn="${topicArn}"]`);
    await see(row, LONG);

    await row.getByRole("button", { name: /^Edit tags of/ }).click();
    let d = page.getByRole("dialog", { name: /^Tags of/ });
    await see(d.getByRole("group", { name: "Tags" }));
    await d.getByRole("button", { name: "Add a tag" }).click();
    await d.getByTestId("tag-row").last().getByLabel(/^Key/).fill("env");
    await d.getByTestId("tag-row").last().getByLabel(/^Value/).fill("prod");
    await d.getByRole("button", { name: "Save tags" }).click();
    await see(d.locator('[data-testid="editor-write-state"][data-state="synced"]'), LONG);
    expect(await awsQuery(platform.awsEndpoint, prodId, "sns", region, { Action: "ListTagsForResource", ResourceArn: topicArn })).toMatch(/<Key>env<\/Key>\s*<Value>prod<\/Value>/);
    await checkScreen(page, "tags-written", d.getByTestId("editor-write-state"));
    await d.getByRole("button", { name: "Close" }).last().click();
    await gone(d);

    // Someone changes the tag in AWS; the console, not knowing, changes it too: neither wins, both are shown.
    await awsQuery(platform.awsEndpoint, prodId, "sns", region, { Action: "TagResource", ResourceArn: topicArn, "Tags.member.1.Key": "team", "Tags.member.1.Value": "aws-side" });
    await row.getByRole("button", { name: /^Edit tags of/ }).click();
    d = page.getByRole("dialog", { name: /^Tags of/ });
    await see(d.getByRole("group", { name: "Tags" }));
    const team = d.locator('[data-testid="tag-row"][data-key="team"]');
    await team.getByLabel(/^Value/).fill("console-side");
    await d.getByRole("button", { name: "Save tags" }).click();
    const conflicts = d.getByTestId("tag-conflicts");
    await see(conflicts, LONG);
    expect(await conflicts.locator('[data-key="team"]').textContent()).toMatch(/aws-side.*console-side/);
    await checkScreen(page, "tags-conflict", conflicts);
    await d.getByRole("button", { name: "Close" }).last().click();
    await see(row.locator('[data-testid="write-state"][data-state="conflict"]'));
  });

  flow("IAM users: an account whose role manages them; onboard (the password shown once, then gone), offboard", async () => {
    await go("/accounts/new");
    const d = dialog("Add Cloud Account");
    await d.getByLabel("Name").fill("Identity");
    await d.getByLabel("AWS account ID").fill(identityId);
    await d.getByRole("radio", { name: /^Manage IAM users/ }).check();
    await d.getByRole("button", { name: "Add account" }).click();
    const c = dialog("Connect Identity");
    await launchStackInLocalConsole(/Open the AWS console in a new tab/, /CREATE_COMPLETE/);
    await see(c.getByTestId("connect-status").getByText("Active"), LONG);
    await c.getByRole("button", { name: "Go to the account" }).click();
    await see(page.getByRole("heading", { name: "Identity", level: 1 }));
    await link("IAM users").click();
    const integration = page.getByTestId("iam-integration");
    await see(integration.or(page.getByTestId("iam-none")), LONG);
    if (await page.getByTestId("iam-none").isVisible()) await button("Check the role and sync").click();
    await see(integration.getByTestId("iam-access").getByText("Manage IAM users"), LONG);
    await see(page.getByTestId("iam-users"));
    await checkScreen(page, "iam-users", page.getByTestId("iam-users"));

    await button("Onboard a user").click();
    const o = dialog("Onboard a user in Identity");
    await o.getByLabel("User name").fill("alice smith!");
    await o.getByRole("button", { name: "Onboard" }).click();
    await see(fieldError(o, "User name"));
    await checkScreen(page, "iam-onboard-error", fieldError(o, "User name"));
    await o.getByLabel("User name").fill("alice");
    await o.getByRole("button", { name: "Onboard" }).click();
    const done = dialog("alice is onboarded");
    await see(done.getByTestId("one-time-password"));
    const password = (await done.getByTestId("one-time-password").textContent())!;
    expect(password.length).toBeGreaterThanOrEqual(12);
    await checkScreen(page, "iam-password-once", done.getByTestId("one-time-password"));
    await done.getByRole("button", { name: "Done" }).click();
    await gone(done);
    await see(page.locator('tr[data-user="alice"]'));
    // Gone: not on the page (nor in web storage), and the API never shows it again.
    const shown = () => page.evaluate(() => document.body.innerText + JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(await shown()).not.toContain(password);
    await page.reload();
    await see(page.locator('tr[data-user="alice"]'));
    expect(await shown()).not.toContain(password);

    await page.getByRole("button", { name: "Offboard alice" }).click();
    const off = dialog("Offboard alice");
    const confirm = off.getByRole("button", { name: "Offboard user" });
    expect(await confirm.isDisabled()).toBe(true);
    await off.getByLabel(/Type the user's name/).fill("alice");
    await confirm.click();
    await see(off.locator('[data-testid="offboarding"][data-status="deleted"], [data-testid="offboarding"][data-status="deletion_scheduled"]'), LONG);
    await checkScreen(page, "iam-offboarded", off.getByTestId("offboarding"));
    await off.getByRole("button", { name: "Done" }).click();
    await gone(page.locator('tr[data-user="alice"]'));
  });

  flow("View as Code: the account as a Terraform configuration, copied with the button", async () => {
    await go(`/accounts/${prodId}`);
    await link("View as Code").click();
    const code = page.getByLabel("Terraform configuration (main.tf)");
    await see(code);
    const text = (await code.textContent())!;
    expect(text).toMatch(/resource\s+"gangplank_/);
    expect(text).toContain(prodId);
    await button("Copy main.tf").click();
    await see(page.getByTestId("view-as-code").getByText("Copied"));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);
    await checkScreen(page, "view-as-code", code);
  });

  flow("disconnect on request: Gangplank forgets the role, the account stays to connect again", async () => {
    await go(`/accounts/${identityId}`);
    await button("Disconnect").click();
    const d = dialog("Disconnect Identity");
    await checkScreen(page, "disconnect", d);
    await d.getByRole("button", { name: "Disconnect account" }).click();
    await gone(d);
    await see(page.getByTestId("account-status").getByText("Disconnected"));
    await see(page.getByRole("link", { name: "Connect", exact: true }));
    expect(await button("Disconnect").count()).toBe(0);
  });

  flow("tenant: rotate the External ID (the previous one keeps its grace period), settings, audit trail", async () => {
    await go("/tenant");
    const id = (await page.getByTestId("external-id").textContent())!;
    await checkScreen(page, "tenant", page.getByTestId("external-id"));
    await button("Rotate External ID").click();
    const d = dialog("Rotate the External ID");
    await see(d.getByText(/grace period/));
    await checkScreen(page, "rotate", d);
    await d.getByRole("button", { name: "Rotate now" }).click();
    await see(page.getByTestId("previous-ids").getByText(id));
    expect(await page.getByTestId("external-id").textContent()).not.toBe(id);

    await page.getByLabel("External ID grace period (days)").fill("999");
    await button("Save settings").click();
    await see(fieldError(page, "External ID grace period (days)"));
    // The API checks the stacks in flight after the other settings: one refusal at a time.
    await page.getByLabel("External ID grace period (days)").fill("14");
    await page.getByLabel("Bulk activation: stacks at a time").fill("5");
    await button("Save settings").click();
    await see(fieldError(page, "Bulk activation: stacks at a time"));
    await page.getByLabel("Bulk activation: stacks at a time").fill("50");
    await button("Save settings").click();
    await see(page.getByText("Settings saved."));
    await page.reload();
    expect(await page.getByLabel("Bulk activation: stacks at a time").inputValue()).toBe("50");

    await link("Audit trail").click();
    // Newest first: the settings just saved, then the rotation; older entries a page further on (the API's cursor).
    const rows = page.getByTestId("audit-table").locator("tbody tr");
    await see(rows.first().getByText("tenant.updated"));
    await see(rows.first().getByText(/externalIdGraceDays/));
    await see(page.getByTestId("audit-table").getByText("tenant.external_id_rotated"));
    await checkScreen(page, "audit", page.getByTestId("audit-table"));
    await button("Next page").click();
    await see(page.getByText("Page 2"));
    await page.waitForFunction(
      () => {
        const first = document.querySelector('[data-testid="audit-table"] tbody tr');
        return first !== null && !first.textContent?.includes("tenant.updated");
      },
      undefined,
      { timeout: WAIT },
    );
  });

  flow("a viewer: signs out and in as the demo viewer, sees no write buttons, and a 403 is shown", async () => {
    await button("Sign out").click();
    await see(page.getByRole("heading", { name: "You are signed out" }));
    await checkScreen(page, "signed-out", page.getByRole("heading", { name: "You are signed out" }));
    await button("Sign in").click();
    await page.getByRole("button", { name: /demo viewer/ }).click();
    await see(page.getByTestId("accounts-table"));
    await see(page.getByText("demo · viewer"));
    expect(await link("Add Cloud Account").count()).toBe(0);
    await go(`/accounts/${prodId}`);
    await see(page.getByRole("heading", { name: "Production EU", level: 1 }));
    for (const b of ["Rename", "Change Access", "Remove", "Disconnect", "Edit integration settings"]) expect(await button(b).count()).toBe(0);
    await checkScreen(page, "viewer-account", page.getByRole("heading", { name: "Status" }));
    // Resources, IAM users, the commitment: read, never written.
    await go(`/accounts/${mgmtId}/resources`);
    await see(page.getByTestId("resources-table").locator("tbody tr[data-arn]"));
    await see(page.locator('[data-testid="inventory-status"][data-status="active"]'));
    for (const b of [/^Sync now/, /^Edit tags of/]) expect(await button(b).count()).toBe(0);
    await checkScreen(page, "viewer-resources", page.getByTestId("resources-table"));
    await go(`/accounts/${identityId}/iam`);
    await see(page.getByTestId("iam-users").or(page.getByTestId("iam-none")));
    for (const b of ["Onboard a user", /^Offboard/, "Sync users now", "Check the role and sync"]) expect(await button(b).count()).toBe(0);
    await go(`/accounts/${mgmtId}/commitment`);
    await see(page.getByText("No EDP commitment recorded for this payer yet."));
    expect(await button("Set the commitment").count()).toBe(0);
    // Launch material is for admins: the API answers 403 and the console shows it.
    await go(`/accounts/${stagingId}/connect`);
    await see(page.getByRole("alert").getByText(/403 Forbidden/));
    await checkScreen(page, "viewer-forbidden", page.getByRole("alert"));
  });
});
