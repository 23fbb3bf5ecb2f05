import { describe, expect, test } from "vitest";
import { backoffDelays, poll } from "./backoff";
import { asAccountId, matchesSearch, needsStackUpdate, activatable } from "./accounts";
import { accountsUnder, buildTree } from "./orgtree";
import { commitmentSeries, monthsBetween } from "./commitment";
import { match, query } from "./router";
import { listFieldError, splitList } from "./lists";

describe("backoff", () => {
  test("doubles from start up to max", () => {
    const next = backoffDelays({ start: 1000, max: 5000, jitter: 0 });
    expect([next(), next(), next(), next(), next()]).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
  test("jitter stays within its spread", () => {
    const low = backoffDelays({ start: 1000, jitter: 0.1, random: () => 0 });
    const high = backoffDelays({ start: 1000, jitter: 0.1, random: () => 0.999999 });
    expect(low()).toBe(900);
    expect(high()).toBe(1100);
  });
  test("poll reads until done, survives failed reads, and waits by the schedule", async () => {
    const reads = [new Error("network"), "pending", "pending", "active"];
    const waits: number[] = [];
    const errors: unknown[] = [];
    const v = await poll({
      read: async () => {
        const r = reads.shift();
        if (r instanceof Error) throw r;
        return r!;
      },
      done: (s) => s === "active",
      onError: (e) => errors.push(e),
      delays: backoffDelays({ start: 10, max: 40, jitter: 0 }),
      signal: new AbortController().signal,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(v).toBe("active");
    expect(waits).toEqual([10, 20, 40]);
    expect(errors).toHaveLength(1);
  });
  test("poll ends when aborted", async () => {
    const ctl = new AbortController();
    const p = poll({ read: async () => "pending", done: () => false, signal: ctl.signal, delays: () => 1_000_000 });
    ctl.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
  });
});

describe("accounts", () => {
  test("needsStackUpdate when the role grants a lower level than chosen", () => {
    expect(needsStackUpdate({ status: "active", accessLevel: "tags_write", grantedAccessLevel: "resources" })).toBe(true);
    expect(needsStackUpdate({ status: "active", accessLevel: "resources", grantedAccessLevel: "tags_write" })).toBe(false);
    expect(needsStackUpdate({ status: "active", accessLevel: "resources_tags", grantedAccessLevel: "resources_tags" })).toBe(false);
    expect(needsStackUpdate({ status: "pending", accessLevel: "tags_write", grantedAccessLevel: "resources" })).toBe(false);
    expect(needsStackUpdate({ status: "active", accessLevel: "tags_write" })).toBe(false);
  });
  test("search matches names ignoring case and accents, and account IDs with separators", () => {
    const a = { name: "Équipe Données", accountId: "123456789012" };
    expect(matchesSearch(a, "equipe")).toBe(true);
    expect(matchesSearch(a, "DONNÉES")).toBe(true);
    expect(matchesSearch(a, "5678")).toBe(true);
    expect(matchesSearch(a, "1234-5678")).toBe(true);
    expect(matchesSearch(a, "prod")).toBe(false);
    expect(matchesSearch(a, "  ")).toBe(true);
  });
  test("asAccountId accepts 12 digits with or without separators", () => {
    expect(asAccountId("1234-5678-9012")).toBe("123456789012");
    expect(asAccountId("123456789012")).toBe("123456789012");
    expect(asAccountId("12345678901")).toBeNull();
    expect(asAccountId("prod")).toBeNull();
  });
  test("activatable statuses", () => {
    expect(["not_activated", "failed", "disconnected"].every((s) => activatable(s as never))).toBe(true);
    expect(["active", "pending", "activating"].some((s) => activatable(s as never))).toBe(false);
  });
});

describe("organization tree", () => {
  const m = (accountId: string, name: string, parentId: string) => ({ accountId, name, status: "not_activated", organization: { parentId, path: "", status: "ACTIVE" } });
  test("nests OUs under their parents, accounts under theirs, sorted, with totals", () => {
    const tree = buildTree(
      "r-1",
      [
        { id: "ou-b", name: "Workloads", path: "Root/Workloads", depth: 1, parentId: "r-1" },
        { id: "ou-p", name: "Prod", path: "Root/Workloads/Prod", depth: 2, parentId: "ou-b" },
        { id: "ou-a", name: "Audit", path: "Root/Audit", depth: 1, parentId: "r-1" },
      ],
      [m("3", "web", "ou-p"), m("2", "api", "ou-p"), m("1", "shared", "r-1"), m("4", "orphan", "ou-gone")],
    );
    expect(tree.children.map((c) => c.name)).toEqual(["Audit", "Workloads"]);
    expect(tree.children[1]!.children[0]!.accounts.map((a) => a.name)).toEqual(["api", "web"]);
    expect(tree.accounts.map((a) => a.name)).toEqual(["orphan", "shared"]);
    expect(tree.total).toBe(4);
    expect(tree.children[1]!.total).toBe(2);
    expect(accountsUnder(tree.children[1]!).map((a) => a.accountId).sort()).toEqual(["2", "3"]);
  });
  test("the root in the OU list names the root and keeps its OUs and accounts under it", () => {
    const tree = buildTree(
      "r-1",
      [
        { id: "r-1", name: "Root", path: "Root", depth: 0 },
        { id: "ou-w", name: "Workloads", path: "Root/Workloads", depth: 1, parentId: "r-1" },
      ],
      [m("1", "shared", "r-1"), m("2", "web", "ou-w")],
    );
    expect(tree.name).toBe("Root");
    expect(tree.children.map((c) => c.id)).toEqual(["ou-w"]);
    expect(tree.accounts.map((a) => a.name)).toEqual(["shared"]);
    expect(tree.total).toBe(2);
  });
  test("OUs whose parents form a cycle hang under the root rather than vanish", () => {
    const tree = buildTree(
      "r-1",
      [
        { id: "ou-a", name: "A", path: "Root/A", depth: 1, parentId: "ou-b" },
        { id: "ou-b", name: "B", path: "Root/B", depth: 1, parentId: "ou-a" },
      ],
      [m("1", "x", "ou-a")],
    );
    expect(tree.children.map((c) => c.id).sort()).toEqual(["ou-a", "ou-b"]);
    expect(tree.total).toBe(1);
  });
});

describe("commitment chart", () => {
  test("months between two dates", () => {
    expect(monthsBetween(new Date("2026-11-15T00:00:00Z"), new Date("2027-02-01T00:00:00Z"))).toEqual(["2026-11", "2026-12", "2027-01", "2027-02"]);
  });
  test("cumulative spend against the straight-line target", () => {
    const s = commitmentSeries(1200, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", [
      { month: "2026-01", amount: 100 },
      { month: "2026-02", amount: 50 },
      { month: "2026-03-01", amount: 25 },
    ]);
    expect(s.labels[0]).toBe("2026-01");
    expect(s.spend).toEqual([100, 150, 175]);
    // End of January: 31 of 365 days.
    expect(s.target[0]).toBeCloseTo((1200 * 31) / 365, 1);
    expect(s.target[11]).toBe(1200);
    expect(s.target.every((v, i) => i === 0 || v >= s.target[i - 1]!)).toBe(true);
  });
});

describe("router", () => {
  test("match fills parameters, decoded", () => {
    expect(match("/accounts/:id/:section", "/accounts/123/organization")).toEqual({ id: "123", section: "organization" });
    expect(match("/accounts/:id", "/accounts/a%20b")).toEqual({ id: "a b" });
    expect(match("/accounts/:id", "/accounts/1/x")).toBeNull();
    expect(match("/tenant", "/audit")).toBeNull();
    expect(match("/accounts/:id", "/accounts/%E0%A4%A")).toBeNull();
  });
  test("query leaves out empty values", () => {
    expect(query({ a: "1", b: "", c: undefined, d: null, e: 0 })).toBe("?a=1&e=0");
    expect(query({ a: "" })).toBe("");
  });
});

describe("lists typed as text", () => {
  test("split on commas, spaces and new lines, empty items dropped", () => {
    expect(splitList(" a@example.com,b@example.com\n  c@example.com ,, ")).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
    expect(splitList("  ")).toEqual([]);
  });
  test("the list's errors and its items', each naming its item, at the list's input", () => {
    const errors = { owners: "at most 20 owners", "owners[1]": "is not an email address", "owners[2]": '"x@" is not an email address', "owners[9]": "is repeated", regions: "x", ownersExtra: "y" };
    expect(listFieldError(errors, "owners", ["a@example.com", "nope", "x@"])).toBe('at most 20 owners; nope: is not an email address; "x@" is not an email address; is repeated');
    expect(listFieldError(errors, "resourceTypes", [])).toBeUndefined();
  });
});
