import { describe, expect, test } from "vitest";
import { parseTagFilter, rowsOf, tagFilter, tagPatch } from "./tags";

describe("tag editing", () => {
  test.each([
    ["a changed value", { env: "dev", team: "a" }, [{ key: "env", value: "prod" }, { key: "team", value: "a" }], { env: "prod" }],
    ["a removed key becomes null", { env: "dev", team: "a" }, [{ key: "env", value: "dev" }], { team: null }],
    ["a new key, blank rows ignored", { env: "dev" }, [{ key: "env", value: "dev" }, { key: " owner ", value: "x" }, { key: "", value: "y" }], { owner: "x" }],
    ["an empty value is a value", {}, [{ key: "flag", value: "" }], { flag: "" }],
    ["a renamed key: the old one removed, the new one set", { Env: "dev" }, [{ key: "env", value: "dev" }], { env: "dev", Env: null }],
    ["nothing changed", { env: "dev" }, [{ key: "env", value: "dev" }], {}],
    ["no tags before", undefined, [{ key: "a", value: "1" }], { a: "1" }],
  ])("%s", (_name, before, rows, want) => {
    expect(tagPatch(before, rows)).toEqual(want);
  });
  test("rows are sorted by key", () => {
    expect(rowsOf({ b: "2", a: "1" })).toEqual([
      { key: "a", value: "1" },
      { key: "b", value: "2" },
    ]);
    expect(rowsOf(undefined)).toEqual([]);
  });
  test.each([
    ["env=prod", "env:prod"],
    ["env:prod", "env:prod"],
    [" team ", "team"],
    ["", ""],
    ["url=a:b", "url:a:b"],
  ])("the filter %j is sent as %j", (typed, sent) => {
    expect(parseTagFilter(typed)).toBe(sent);
  });
  test("a key with a colon is quoted", () => {
    expect(tagFilter("aws:cloudformation:stack-name", "s")).toBe('"aws:cloudformation:stack-name":s');
  });
});
