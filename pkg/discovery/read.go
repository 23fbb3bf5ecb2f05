// Package discovery reads AWS organizations for the tenants that link them. Through a management account's role it
// reads every account and the OU tree, and keeps the tenant's linked accounts in step: new members appear
// not_activated, known ones are updated, members that left are marked so; nothing is ever deleted. Through a linked
// account's own role (a tenant that started with a linked account) it finds the organization's management account.
//
// Each discovery is a job (job.go): started by the API, by an activation or by the daily schedule, it runs in
// steps on a queue, each step checkpointing where it stopped, so an organization of any size outlasts any one
// Lambda invocation (docs/discovery.md).
package discovery

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Organizations is what discovery reads of AWS Organizations, one request per method (pkg/discovery/awsorganizations
// implements it over the SDK). A page token is "" for the first page; a returned next token is "" after the last.
type Organizations interface {
	// Root is the organization's root (ID and Name set), or ErrNoRoot.
	Root(ctx context.Context) (OU, error)
	// ChildOUs is a page of the OUs directly under a parent (ID and Name set).
	ChildOUs(ctx context.Context, parentID, pageToken string) (ous []OU, next string, err error)
	// ChildAccounts is a page of the accounts directly under a parent (all but ParentID set).
	ChildAccounts(ctx context.Context, parentID, pageToken string) (members []Member, next string, err error)
	// ManagementAccountID is the management account of the caller's organization ("" if Organizations does not
	// say), or ErrNotInOrganization.
	ManagementAccountID(ctx context.Context) (string, error)
	// HasAccount reports whether the account is in the caller's organization.
	HasAccount(ctx context.Context, accountID string) (bool, error)
}

// ErrNotInOrganization: the account whose role asked is in no AWS organization (AWSOrganizationsNotInUseException).
var ErrNotInOrganization = errors.New("the account is not in an AWS organization")

// ErrOrganizationsNotWired: a discovery ran in a function built without the Organizations client.
var ErrOrganizationsNotWired = errors.New("this function is not wired to read AWS Organizations")

// OU is an organizational unit (or the root) with its path of names from the root.
type OU struct {
	ID       string `json:"id" dynamodbav:"id"`
	Name     string `json:"name" dynamodbav:"name"`
	ParentID string `json:"parentId,omitempty" dynamodbav:"parentId,omitempty"`
	Path     string `json:"path" dynamodbav:"path"`
	Depth    int    `json:"depth" dynamodbav:"depth"`
}

// Member is an account of the organization (short JSON names: a job's checkpoints store thousands).
type Member struct {
	ID           string     `json:"i"`
	Name         string     `json:"n"`
	Email        string     `json:"e"`
	Status       string     `json:"s"`
	JoinedMethod string     `json:"j"`
	JoinedAt     *time.Time `json:"t,omitempty"`
	ParentID     string     `json:"p"`
}

// Tree is the whole organization.
type Tree struct {
	RootID  string
	OUs     map[string]OU // by id, root included
	Members []Member
}

// maxOUDepth is AWS's limit: an OU five levels below the root has no child OUs, so it is not asked for them.
const maxOUDepth = 5

// Listings of one container, in the order the walk makes them.
const (
	listOUs      = "ous"
	listAccounts = "accounts"
)

// Walk is where a reading of the organization stands: which containers (the root, OUs) are still to list, and how
// far the first of them is listed. It is all a later step needs, with the OUs and members read so far, to go on.
type Walk struct {
	// Started: the root has been read (and is the first container).
	Started bool `json:"started"`
	// Pending lists the containers not fully listed yet, breadth first; the walk is listing Pending[0].
	Pending []string `json:"pending,omitempty"`
	// Listing is the listing of Pending[0] under way (its OUs, then its accounts), NextToken the page to ask next.
	Listing   string `json:"listing,omitempty"`
	NextToken string `json:"nextToken,omitempty"`
}

// Done reports whether every container has been listed.
func (w Walk) Done() bool { return w.Started && len(w.Pending) == 0 }

// ErrNoRoot: Organizations listed no root (an organization always has one).
var ErrNoRoot = errors.New("the organization has no root")

// Advance reads on from w, one request at a time while more() allows another, adding what it reads to t (which
// holds what earlier steps read). Per container: one ListOrganizationalUnitsForParent (the OUs with their names;
// not asked of OUs at AWS's depth limit) and one ListAccountsForParent (the accounts with their details and, by
// being asked per container, their parent), 20 a page. ListAccounts has no parents and ListParents is one call per
// account, so this is the least Organizations allows for paths: Σ⌈accounts in a container / 20⌉ + one call per
// container above the depth limit + ListRoots.
func Advance(ctx context.Context, org Organizations, t *Tree, w *Walk, more func() bool) error {
	if t.OUs == nil {
		t.OUs = map[string]OU{}
	}
	for !w.Done() {
		if !more() {
			return nil
		}
		if !w.Started {
			root, err := org.Root(ctx)
			switch {
			case errors.Is(err, ErrNoRoot):
				return err
			case err != nil:
				return fmt.Errorf("list the organization's root: %w", err)
			}
			t.RootID = root.ID
			t.OUs[t.RootID] = OU{ID: root.ID, Name: root.Name, Path: root.Name}
			w.Started, w.Pending, w.Listing, w.NextToken = true, []string{t.RootID}, listOUs, ""
			continue
		}
		parent, ok := t.OUs[w.Pending[0]]
		if !ok {
			return fmt.Errorf("the walk lost container %s (its checkpoint does not hold it)", w.Pending[0])
		}
		if w.Listing == listOUs && parent.Depth >= maxOUDepth {
			w.Listing, w.NextToken = listAccounts, ""
		}
		var next string
		switch w.Listing {
		case listOUs:
			ous, n, err := org.ChildOUs(ctx, parent.ID, w.NextToken)
			if err != nil {
				return fmt.Errorf("list the OUs of %s: %w", parent.ID, err)
			}
			for _, ou := range ous {
				child := OU{ID: ou.ID, Name: ou.Name, ParentID: parent.ID, Path: parent.Path + "/" + ou.Name, Depth: parent.Depth + 1}
				t.OUs[child.ID] = child
				w.Pending = append(w.Pending, child.ID)
			}
			if next = n; next == "" {
				w.Listing, w.NextToken = listAccounts, ""
				continue
			}
		default:
			members, n, err := org.ChildAccounts(ctx, parent.ID, w.NextToken)
			if err != nil {
				return fmt.Errorf("list the accounts of %s: %w", parent.ID, err)
			}
			for _, m := range members {
				m.ParentID = parent.ID
				t.Members = append(t.Members, m)
			}
			if next = n; next == "" {
				w.Pending, w.Listing, w.NextToken = w.Pending[1:], listOUs, ""
				continue
			}
		}
		w.NextToken = next
	}
	return nil
}

// Read walks the whole organization at once (the organization's size bounds the time: jobs use Advance).
func Read(ctx context.Context, org Organizations) (Tree, error) {
	var t Tree
	var w Walk
	err := Advance(ctx, org, &t, &w, func() bool { return true })
	return t, err
}

// ancestors lists the OU ids above an account, nearest first, root included.
func (t Tree) ancestors(parentID string) []string {
	var out []string
	for id := parentID; id != ""; id = t.OUs[id].ParentID {
		out = append(out, id)
		if len(out) > maxOUDepth+1 {
			break
		}
	}
	return out
}

// LowerBound is the fewest Organizations requests any discovery of this organization can make, as the issue frames
// it: one ListAccounts pass at 20 a page plus one call per OU.
func (t Tree) LowerBound() int {
	return (len(t.Members)+19)/20 + len(t.OUs) - 1
}
