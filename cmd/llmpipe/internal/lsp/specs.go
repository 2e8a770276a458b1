package lsp

import (
	"sync"

	"github.com/llmpipe/llmpipe/interp"
)

type role = interp.AttrRole

const (
	roleLiteral  = interp.RoleLiteral
	roleRef      = interp.RoleRef
	roleModels   = interp.RoleModels
	roleExpr     = interp.RoleExpr
	roleTemplate = interp.RoleTemplate
)

var (
	specsOnce sync.Once
	blockDocs map[string]*interp.BlockDoc
	topKinds  []string
)

func loadSpecs() {
	specsOnce.Do(func() {
		blockDocs = map[string]*interp.BlockDoc{}
		for _, d := range interp.BlockDocs() {
			d := d
			blockDocs[d.Kind] = &d
			if d.TopLevel {
				topKinds = append(topKinds, d.Kind)
			}
		}
	})
}

// blockDoc is the spec of a block kind, or nil.
func blockDoc(kind string) *interp.BlockDoc {
	loadSpecs()
	return blockDocs[kind]
}

// attrDoc is the spec of an attribute of a block kind, or nil.
func attrDoc(kind, name string) *interp.AttrDoc {
	b := blockDoc(kind)
	if b == nil {
		return nil
	}
	for i := range b.Attrs {
		if b.Attrs[i].Name == name {
			return &b.Attrs[i]
		}
	}
	return nil
}

// attrRole says how an attribute's value is read; a check is an expression.
func attrRole(kind, name string) role {
	if name == "check" || name == "expect" {
		return roleExpr
	}
	if a := attrDoc(kind, name); a != nil {
		return a.Role
	}
	return roleLiteral
}

// scopeOf is the scope of names an attribute's expression or template sees.
func scopeOf(kind, attr string) interp.Scope {
	switch {
	case kind == "source":
		return interp.ScopeSource
	case kind == "retry" && attr == "feedback":
		return interp.ScopeFeedback
	case attr == "expect":
		return interp.ScopeTest
	case attr == "check":
		return interp.ScopeCheck
	}
	return interp.ScopeStep
}
