// Package discovery reads a management account's AWS organization (every account and the OU tree) through its
// role, and keeps the tenant's linked accounts in step with it: new members appear not_activated, known ones are
// updated, members that left are marked so; nothing is ever deleted.
package discovery

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// Organizations is the part of the Organizations API discovery reads.
type Organizations interface {
	ListRoots(ctx context.Context, in *organizations.ListRootsInput, optFns ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListOrganizationalUnitsForParent(ctx context.Context, in *organizations.ListOrganizationalUnitsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
}

// OU is an organizational unit (or the root) with its path of names from the root.
type OU struct {
	ID       string `json:"id" dynamodbav:"id"`
	Name     string `json:"name" dynamodbav:"name"`
	ParentID string `json:"parentId,omitempty" dynamodbav:"parentId,omitempty"`
	Path     string `json:"path" dynamodbav:"path"`
	Depth    int    `json:"depth" dynamodbav:"depth"`
}

// Member is an account of the organization.
type Member struct {
	ID, Name, Email, Status, JoinedMethod string
	JoinedAt                              *time.Time
	ParentID                              string
}

// Tree is the whole organization.
type Tree struct {
	RootID  string
	OUs     map[string]OU // by id, root included
	Members []Member
}

// maxOUDepth is AWS's limit: an OU five levels below the root has no child OUs, so it is not asked for them.
const maxOUDepth = 5

// Read walks the organization from its root: per container one ListOrganizationalUnitsForParent (the OUs with their
// names) and one ListAccountsForParent (the accounts with their details and their parent), 20 a page. That is the
// least Organizations allows for names, paths and details: ListAccounts has no parents and ListParents is one call
// per account.
func Read(ctx context.Context, org Organizations) (Tree, error) {
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return Tree{}, fmt.Errorf("list the organization's root: %w", err)
	}
	if len(roots.Roots) == 0 {
		return Tree{}, fmt.Errorf("the organization has no root")
	}
	root := roots.Roots[0]
	t := Tree{RootID: aws.ToString(root.Id), OUs: map[string]OU{}}
	t.OUs[t.RootID] = OU{ID: t.RootID, Name: aws.ToString(root.Name), Path: aws.ToString(root.Name)}
	queue := []string{t.RootID}
	for len(queue) > 0 {
		parent := t.OUs[queue[0]]
		queue = queue[1:]
		if parent.Depth < maxOUDepth {
			var token *string
			for {
				out, err := org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent.ID), NextToken: token})
				if err != nil {
					return Tree{}, fmt.Errorf("list the OUs of %s: %w", parent.ID, err)
				}
				for _, ou := range out.OrganizationalUnits {
					child := OU{ID: aws.ToString(ou.Id), Name: aws.ToString(ou.Name), ParentID: parent.ID,
						Path: parent.Path + "/" + aws.ToString(ou.Name), Depth: parent.Depth + 1}
					t.OUs[child.ID] = child
					queue = append(queue, child.ID)
				}
				if token = out.NextToken; token == nil {
					break
				}
			}
		}
		var token *string
		for {
			out, err := org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent.ID), NextToken: token})
			if err != nil {
				return Tree{}, fmt.Errorf("list the accounts of %s: %w", parent.ID, err)
			}
			for _, a := range out.Accounts {
				t.Members = append(t.Members, Member{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Email: aws.ToString(a.Email),
					Status: string(a.Status), JoinedMethod: string(a.JoinedMethod), JoinedAt: a.JoinedTimestamp, ParentID: parent.ID})
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
	}
	return t, nil
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
