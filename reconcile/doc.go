// Package reconcile is afisync's model of a run and its decisions, apart from
// any I/O: what exists in AWS (Inventory, Image), what each target of a plan
// needs (Diff → Change), which attributes an existing copy must change
// (Converge), the tags a new copy carries (DesiredTags), the idempotency token
// of each copy attempt (ClientToken), whether a failed copy is copied again
// (NextAfterFailure), and the identity of a build (BuildKey, BuildToken,
// BuildTags).
//
// It makes no AWS call and reads no clock: the executor gathers the inventory,
// asks Diff, and carries out the changes. Targets come from package plan.
package reconcile
