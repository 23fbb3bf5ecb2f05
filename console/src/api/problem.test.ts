import { describe, expect, test } from "vitest";
import { ApiError, describe as say, fieldErrors, toApiError } from "./problem";

describe("problems", () => {
  test("field errors by field; problem types that belong to a field map to it", () => {
    expect(
      fieldErrors({
        type: "https://gangplank.dev/problems/validation-failed",
        title: "Some fields are not valid",
        status: 422,
        errors: [
          { field: "accountId", message: "exactly 12 digits" },
          { field: "accountId", message: "second" },
          { field: "settings.externalIdGraceDays", message: "0 to 365" },
        ],
      }),
    ).toEqual({ accountId: "exactly 12 digits", "settings.externalIdGraceDays": "0 to 365" });
    expect(fieldErrors({ type: "https://gangplank.dev/problems/name-taken", title: "Name taken", status: 409, detail: "another account is named Prod" })).toEqual({
      name: "another account is named Prod",
    });
  });
  test("a failed response becomes an ApiError, whatever its body", async () => {
    const json = new Response(JSON.stringify({ type: "https://gangplank.dev/problems/forbidden", title: "Not allowed", status: 403, detail: "viewer" }), {
      status: 403,
      headers: { "Content-Type": "application/problem+json" },
    });
    const e = await toApiError(json);
    expect(e.kind).toBe("forbidden");
    expect(say(e)).toBe("Not allowed: viewer");
    const html = await toApiError(new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "Retry-After": "7" } }));
    expect(html.problem.title).toBe("Bad Gateway");
    expect(html.retryAfter).toBe(7);
    expect(html).toBeInstanceOf(ApiError);
  });
});
