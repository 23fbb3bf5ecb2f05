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
 * accounts (by their parentId), sorted by name. OUs whose parent is unknown hang under the root, so nothing the
 * API returned is hidden.
 */
export function buildTree<M extends Member>(rootId: string, ous: OU[], accounts: M[]): TreeNode<M> {
  const root: TreeNode<M> = { id: rootId, name: "Root", path: "Root", children: [], accounts: [], total: 0 };
  const nodes = new Map<string, TreeNode<M>>([[rootId, root]]);
  for (const ou of ous) nodes.set(ou.id, { id: ou.id, name: ou.name, path: ou.path, children: [], accounts: [], total: 0 });
  for (const ou of ous) (nodes.get(ou.parentId ?? rootId) ?? root).children.push(nodes.get(ou.id)!);
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
