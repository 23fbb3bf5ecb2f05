import type { AccessLevel, Account, AccountStatus, AccountType } from "../api/client";

/** PyraCloud's three access levels, least first, as a person chooses between them. */
export const accessLevels: { value: AccessLevel; label: string; description: string }[] = [
  {
    value: "resources",
    label: "Resources",
    description: "Read-only: lists your resources and their configuration. Tags are not read and nothing is changed.",
  },
  {
    value: "resources_tags",
    label: "Resources and tags",
    description: "Read-only: lists your resources with their tags, so costs and owners can be attributed. Nothing is changed.",
  },
  {
    value: "tags_write",
    label: "Resources, tags and tag writing",
    description: "Reads resources and tags, and may add or change tags on your resources. It changes nothing else.",
  },
];

export function accessLabel(level: AccessLevel | undefined): string {
  return accessLevels.find((a) => a.value === level)?.label ?? level ?? "—";
}

const rank = (l: AccessLevel) => accessLevels.findIndex((a) => a.value === l);

/**
 * Whether the role grants less than the access level chosen: the stack must be updated (with a new link) before
 * Gangplank can use the new level.
 */
export function needsStackUpdate(a: Pick<Account, "status" | "accessLevel" | "grantedAccessLevel">): boolean {
  if (a.status !== "active" || !a.grantedAccessLevel) return false;
  return rank(a.grantedAccessLevel) < rank(a.accessLevel);
}

export const statusLabels: Record<AccountStatus, string> = {
  pending: "Pending",
  active: "Active",
  failed: "Failed",
  not_activated: "Not activated",
  activating: "Activating",
  disconnected: "Disconnected",
};

export type Tone = "ok" | "warn" | "bad" | "info" | "muted";

export const statusTone: Record<AccountStatus, Tone> = {
  pending: "info",
  active: "ok",
  failed: "bad",
  not_activated: "muted",
  activating: "info",
  disconnected: "bad",
};

export const healthTone: Record<string, Tone> = { healthy: "ok", degraded: "warn", unhealthy: "bad", unknown: "muted" };

export const typeLabels: Record<AccountType, string> = {
  management: "Management",
  linked: "Linked",
  standalone: "Standalone",
};

/** Whether an account matches a search: part of its name (ignoring case and accents) or of its account ID. */
export function matchesSearch(a: Pick<Account, "name" | "accountId">, search: string): boolean {
  const q = fold(search.trim());
  if (!q) return true;
  return fold(a.name).includes(q) || a.accountId.includes(q.replace(/[\s-]/g, ""));
}

function fold(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** A 12-digit account ID typed with or without separators ("1234-5678-9012"), or null. */
export function asAccountId(search: string): string | null {
  const digits = search.replace(/[\s-]/g, "");
  return /^\d{12}$/.test(digits) ? digits : null;
}

/** Accounts that may be activated from their organization: discovered or failed members, not yet connected. */
export function activatable(status: AccountStatus): boolean {
  return status === "not_activated" || status === "failed" || status === "disconnected";
}

export type IdentityAccess = import("../api/client").Schemas["IdentityAccess"];

/** What Gangplank may do with the account's IAM users through its role (the template's IdentityAccess parameter). */
export const identityAccessOptions: { value: IdentityAccess; label: string; description: string }[] = [
  { value: "none", label: "No IAM access", description: "Gangplank does not look at the account's IAM users." },
  { value: "read", label: "Read IAM users", description: "List users, groups and policies, and read the credential report." },
  { value: "readwrite", label: "Manage IAM users", description: "Also onboard and offboard users under the path prefix." },
];
