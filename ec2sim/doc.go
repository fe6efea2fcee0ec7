// Package ec2sim is an in-memory EC2 endpoint simulator for the Amazon FPGA
// Image (AFI) calls, close enough to EC2 that the real aws-sdk-go-v2 ec2 and
// sts clients and the aws CLI cannot tell it from AWS for those calls.
//
// A *Sim is an http.Handler speaking the EC2 Query protocol (Version
// 2016-11-15): CreateFpgaImage, CopyFpgaImage, DescribeFpgaImages,
// DeleteFpgaImage, CreateTags/DeleteTags/DescribeTags on afi- IDs,
// Describe/Modify/ResetFpgaImageAttribute and DescribeRegions, plus STS
// GetCallerIdentity and AssumeRole (Version 2011-06-15). The Region comes
// from the SigV4 credential scope of each request and the account from its
// access key ID: Options.Accounts, else the role's account for the keys
// AssumeRole hands out (refused for Options.DenyAssumeRole accounts and
// without the external ID of Options.ExternalIDs), else the default
// account. Signatures are not verified.
//
// Time is injectable (Options.Clock, ManualClock): AFI states derive from
// timestamps, so no goroutine runs in the background and tests never sleep.
// Faults are available on demand: EC2's per-account, per-Region, per-action
// token buckets, random 5xx answers, added latency, copies that end failed,
// targeted faults (InjectFault) and denied actions (Options.Deny). Every call
// is counted (Stats, and GET /_sim/stats as JSON).
//
// The package depends on the standard library only; a test enforces it. It is
// served by the afisync sim command; docs/simulator.md describes the
// behaviour, the deviations from EC2 and which details the simulator invents.
package ec2sim

//go:generate go run ./internal/modelgen -o testdata/ec2-model-subset.json
