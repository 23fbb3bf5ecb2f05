export interface OU {
  id: string;
  name: string;
  parentId?: string;
  path: string;
  depth: number;
}

export interface Member {
  accountId: string;
  name: string;
  status: string;
  organization: { parentId: string; path: string; status: string };
}

export interface TreeNode<M extends Member = Member> {
  id: string;
  name: string;
  path: string;
  children: TreeNode<M>[];
  accounts: M[];
  /** Every account at or below this node. */
  total: number;
}

/**
 * The OU tree from the organization's flat lists: OUs linked by parentId under the root, each with its member
 * accounts (by their parentId), sorted by name. The list may hold the root itself (it gives the root its name); an
 * OU whose parent is unknown hangs under the root, so nothing the API returned is hidden, and no OU can be its own
 * ancestor.
 */
export function buildTree<M extends Member>(rootId: string, ous: OU[], accounts: M[]): TreeNode<M> {
  const named = ous.find((ou) => ou.id === rootId);
  const root: TreeNode<M> = { id: rootId, name: named?.name ?? "Root", path: named?.path ?? "Root", children: [], accounts: [], total: 0 };
  const nodes = new Map<string, TreeNode<M>>([[rootId, root]]);
  const below = ous.filter((ou) => ou.id !== rootId);
  for (const ou of below) nodes.set(ou.id, { id: ou.id, name: ou.name, path: ou.path, children: [], accounts: [], total: 0 });
  const parentOf = new Map(below.map((ou) => [ou.id, ou.parentId && nodes.has(ou.parentId) ? ou.parentId : rootId]));
  // A parent chain that never reaches the root (a cycle in what the API sent) is cut at the root.
  const reachesRoot = (id: string) => {
    const seen = new Set<string>();
    for (let at = id; at !== rootId; at = parentOf.get(at)!) {
      if (seen.has(at)) return false;
      seen.add(at);
    }
    return true;
  };
  for (const ou of below) (reachesRoot(ou.id) ? nodes.get(parentOf.get(ou.id)!)! : root).children.push(nodes.get(ou.id)!);
  for (const a of accounts) (nodes.get(a.organization.parentId) ?? root).accounts.push(a);
  const sort = (n: TreeNode<M>): number => {
    n.children.sort((x, y) => x.name.localeCompare(y.name));
    n.accounts.sort((x, y) => x.name.localeCompare(y.name) || x.accountId.localeCompare(y.accountId));
    n.total = n.accounts.length + n.children.reduce((sum, c) => sum + sort(c), 0);
    return n.total;
  };
  sort(root);
  return root;
}

/** The accounts at or below a node. */
export function accountsUnder<M extends Member>(n: TreeNode<M>): M[] {
  return [...n.accounts, ...n.children.flatMap((c) => accountsUnder(c))];
}
