package b2step

import (
	"github.com/ByteArena/box2d"
)

// The broad phase's dynamic tree, as the library keeps it: moving a proxy
// whose fat AABB no longer holds it, and the leaf removal, insertion and
// rotations that follow, copied with AABB unions on the builtin min and max
// (no math.Min or math.Max call each) and without the library's value
// copies. The tree comes out identical, node for node.

// moveProxy is B2BroadPhase.MoveProxy (B2DynamicTree.MoveProxy and
// BufferMove).
func moveProxy(bp *box2d.B2BroadPhase, proxyID int, aabb box2d.B2AABB, displacement box2d.B2Vec2) {
	tree := &bp.M_tree
	if contains(&tree.M_nodes[proxyID].Aabb, &aabb) {
		return
	}

	removeLeaf(tree, proxyID)

	// Extend AABB.
	b := aabb
	r := box2d.MakeB2Vec2(box2d.B2_aabbExtension, box2d.B2_aabbExtension)
	b.LowerBound = box2d.B2Vec2Sub(b.LowerBound, r)
	b.UpperBound = box2d.B2Vec2Add(b.UpperBound, r)

	// Predict AABB displacement.
	d := box2d.B2Vec2MulScalar(box2d.B2_aabbMultiplier, displacement)
	if d.X < 0.0 {
		b.LowerBound.X += d.X
	} else {
		b.UpperBound.X += d.X
	}
	if d.Y < 0.0 {
		b.LowerBound.Y += d.Y
	} else {
		b.UpperBound.Y += d.Y
	}

	tree.M_nodes[proxyID].Aabb = b
	insertLeaf(tree, proxyID)

	bp.BufferMove(proxyID)
}

// contains is B2AABB.Contains: whether a holds b.
func contains(a, b *box2d.B2AABB) bool {
	return a.LowerBound.X <= b.LowerBound.X &&
		a.LowerBound.Y <= b.LowerBound.Y &&
		b.UpperBound.X <= a.UpperBound.X &&
		b.UpperBound.Y <= a.UpperBound.Y
}

// perimeter is B2AABB.GetPerimeter.
func perimeter(a *box2d.B2AABB) float64 {
	wx := a.UpperBound.X - a.LowerBound.X
	wy := a.UpperBound.Y - a.LowerBound.Y
	return 2.0 * (wx + wy)
}

// insertLeaf is B2DynamicTree.InsertLeaf.
func insertLeaf(tree *box2d.B2DynamicTree, leaf int) {
	tree.M_insertionCount++

	if tree.M_root == box2d.B2_nullNode {
		tree.M_root = leaf
		tree.M_nodes[tree.M_root].Parent = box2d.B2_nullNode
		return
	}

	// Find the best sibling for this node
	leafAABB := tree.M_nodes[leaf].Aabb
	index := tree.M_root
	for tree.M_nodes[index].Child1 != box2d.B2_nullNode {
		child1 := tree.M_nodes[index].Child1
		child2 := tree.M_nodes[index].Child2

		area := perimeter(&tree.M_nodes[index].Aabb)

		combinedAABB := combine(tree.M_nodes[index].Aabb, leafAABB)
		combinedArea := perimeter(&combinedAABB)

		// Cost of creating a new parent for this node and the new leaf
		cost := 2.0 * combinedArea

		// Minimum cost of pushing the leaf further down the tree
		inheritanceCost := 2.0 * (combinedArea - area)

		// Cost of descending into child1
		cost1 := 0.0
		if tree.M_nodes[child1].Child1 == box2d.B2_nullNode {
			aabb := combine(leafAABB, tree.M_nodes[child1].Aabb)
			cost1 = perimeter(&aabb) + inheritanceCost
		} else {
			aabb := combine(leafAABB, tree.M_nodes[child1].Aabb)
			oldArea := perimeter(&tree.M_nodes[child1].Aabb)
			newArea := perimeter(&aabb)
			cost1 = (newArea - oldArea) + inheritanceCost
		}

		// Cost of descending into child2
		cost2 := 0.0
		if tree.M_nodes[child2].Child1 == box2d.B2_nullNode {
			aabb := combine(leafAABB, tree.M_nodes[child2].Aabb)
			cost2 = perimeter(&aabb) + inheritanceCost
		} else {
			aabb := combine(leafAABB, tree.M_nodes[child2].Aabb)
			oldArea := perimeter(&tree.M_nodes[child2].Aabb)
			newArea := perimeter(&aabb)
			cost2 = newArea - oldArea + inheritanceCost
		}

		// Descend according to the minimum cost.
		if cost < cost1 && cost < cost2 {
			break
		}

		// Descend
		if cost1 < cost2 {
			index = child1
		} else {
			index = child2
		}
	}

	sibling := index

	// Create a new parent.
	oldParent := tree.M_nodes[sibling].Parent
	newParent := tree.AllocateNode()
	tree.M_nodes[newParent].Parent = oldParent
	tree.M_nodes[newParent].UserData = nil
	tree.M_nodes[newParent].Aabb = combine(leafAABB, tree.M_nodes[sibling].Aabb)
	tree.M_nodes[newParent].Height = tree.M_nodes[sibling].Height + 1

	if oldParent != box2d.B2_nullNode {
		// The sibling was not the root.
		if tree.M_nodes[oldParent].Child1 == sibling {
			tree.M_nodes[oldParent].Child1 = newParent
		} else {
			tree.M_nodes[oldParent].Child2 = newParent
		}

		tree.M_nodes[newParent].Child1 = sibling
		tree.M_nodes[newParent].Child2 = leaf
		tree.M_nodes[sibling].Parent = newParent
		tree.M_nodes[leaf].Parent = newParent
	} else {
		// The sibling was the root.
		tree.M_nodes[newParent].Child1 = sibling
		tree.M_nodes[newParent].Child2 = leaf
		tree.M_nodes[sibling].Parent = newParent
		tree.M_nodes[leaf].Parent = newParent
		tree.M_root = newParent
	}

	// Walk back up the tree fixing heights and AABBs
	index = tree.M_nodes[leaf].Parent
	for index != box2d.B2_nullNode {
		index = balance(tree, index)

		child1 := tree.M_nodes[index].Child1
		child2 := tree.M_nodes[index].Child2

		tree.M_nodes[index].Height = 1 + max(tree.M_nodes[child1].Height, tree.M_nodes[child2].Height)
		tree.M_nodes[index].Aabb = combine(tree.M_nodes[child1].Aabb, tree.M_nodes[child2].Aabb)

		index = tree.M_nodes[index].Parent
	}

	//Validate();
}

// removeLeaf is B2DynamicTree.RemoveLeaf.
func removeLeaf(tree *box2d.B2DynamicTree, leaf int) {
	if leaf == tree.M_root {
		tree.M_root = box2d.B2_nullNode
		return
	}

	parent := tree.M_nodes[leaf].Parent
	grandParent := tree.M_nodes[parent].Parent
	sibling := 0
	if tree.M_nodes[parent].Child1 == leaf {
		sibling = tree.M_nodes[parent].Child2
	} else {
		sibling = tree.M_nodes[parent].Child1
	}

	if grandParent != box2d.B2_nullNode {
		// Destroy parent and connect sibling to grandParent.
		if tree.M_nodes[grandParent].Child1 == parent {
			tree.M_nodes[grandParent].Child1 = sibling
		} else {
			tree.M_nodes[grandParent].Child2 = sibling
		}
		tree.M_nodes[sibling].Parent = grandParent
		tree.FreeNode(parent)

		// Adjust ancestor bounds.
		index := grandParent
		for index != box2d.B2_nullNode {
			index = balance(tree, index)

			child1 := tree.M_nodes[index].Child1
			child2 := tree.M_nodes[index].Child2

			tree.M_nodes[index].Aabb = combine(tree.M_nodes[child1].Aabb, tree.M_nodes[child2].Aabb)
			tree.M_nodes[index].Height = 1 + max(tree.M_nodes[child1].Height, tree.M_nodes[child2].Height)

			index = tree.M_nodes[index].Parent
		}
	} else {
		tree.M_root = sibling
		tree.M_nodes[sibling].Parent = box2d.B2_nullNode
		tree.FreeNode(parent)
	}

	// //Validate();
}

// balance is B2DynamicTree.Balance: rotate node iA up if it is imbalanced;
// returns the new root index of its subtree.
func balance(tree *box2d.B2DynamicTree, iA int) int {

	A := &tree.M_nodes[iA]
	if (A.Child1 == box2d.B2_nullNode) || A.Height < 2 {
		return iA
	}

	iB := A.Child1
	iC := A.Child2

	B := &tree.M_nodes[iB]
	C := &tree.M_nodes[iC]

	balance := C.Height - B.Height

	// Rotate C up
	if balance > 1 {
		iF := C.Child1
		iG := C.Child2
		F := &tree.M_nodes[iF]
		G := &tree.M_nodes[iG]

		// Swap A and C
		C.Child1 = iA
		C.Parent = A.Parent
		A.Parent = iC

		// A's old parent should point to C
		if C.Parent != box2d.B2_nullNode {
			if tree.M_nodes[C.Parent].Child1 == iA {
				tree.M_nodes[C.Parent].Child1 = iC
			} else {
				tree.M_nodes[C.Parent].Child2 = iC
			}
		} else {
			tree.M_root = iC
		}

		// Rotate
		if F.Height > G.Height {
			C.Child2 = iF
			A.Child2 = iG
			G.Parent = iA
			A.Aabb = combine(B.Aabb, G.Aabb)
			C.Aabb = combine(A.Aabb, F.Aabb)

			A.Height = 1 + max(B.Height, G.Height)
			C.Height = 1 + max(A.Height, F.Height)
		} else {
			C.Child2 = iG
			A.Child2 = iF
			F.Parent = iA
			A.Aabb = combine(B.Aabb, F.Aabb)
			C.Aabb = combine(A.Aabb, G.Aabb)

			A.Height = 1 + max(B.Height, F.Height)
			C.Height = 1 + max(A.Height, G.Height)
		}

		return iC
	}

	// Rotate B up
	if balance < -1 {
		iD := B.Child1
		iE := B.Child2

		D := &tree.M_nodes[iD]
		E := &tree.M_nodes[iE]

		// Swap A and B
		B.Child1 = iA
		B.Parent = A.Parent
		A.Parent = iB

		// A's old parent should point to B
		if B.Parent != box2d.B2_nullNode {
			if tree.M_nodes[B.Parent].Child1 == iA {
				tree.M_nodes[B.Parent].Child1 = iB
			} else {
				tree.M_nodes[B.Parent].Child2 = iB
			}
		} else {
			tree.M_root = iB
		}

		// Rotate
		if D.Height > E.Height {
			B.Child2 = iD
			A.Child1 = iE
			E.Parent = iA
			A.Aabb = combine(C.Aabb, E.Aabb)
			B.Aabb = combine(A.Aabb, D.Aabb)

			A.Height = 1 + max(C.Height, E.Height)
			B.Height = 1 + max(A.Height, D.Height)
		} else {
			B.Child2 = iE
			A.Child1 = iD
			D.Parent = iA
			A.Aabb = combine(C.Aabb, D.Aabb)
			B.Aabb = combine(A.Aabb, E.Aabb)

			A.Height = 1 + max(C.Height, D.Height)
			B.Height = 1 + max(A.Height, E.Height)
		}

		return iB
	}

	return iA
}
